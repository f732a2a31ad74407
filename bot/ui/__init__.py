"""The chat page: rendering (`render`), the page and its events (`page`), serving (`server`), sign-in (`auth`)."""
