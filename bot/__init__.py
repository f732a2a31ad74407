"""Offline, document-grounded extractive question answering with citations."""

import os

# Offline by default: nothing may reach a model hub or analytics endpoint unless the user
# opts in (HF_HUB_OFFLINE=0). Set before huggingface_hub or gradio read them at import.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Idle OpenMP threads sleep instead of spinning: with several requests (or an upload being
# indexed) sharing two cores, spinning threads starve each other and latency grows 5-20x.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
