"""Running the bot's bulk work on a Ray cluster (a local one, a `ray up` cluster or KubeRay):
embedding for index builds and questions for evaluation. Everything else stays in the
driver process, so the index rules (incremental, atomic, checked) are the local ones."""
