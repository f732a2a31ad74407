"""The `bot` command line (`bot.cli.main`), its shared flags and error handling (`bot.cli.options`)."""

from bot.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
