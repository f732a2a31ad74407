"""Finding passages: sentence embeddings, the on-disk index (FAISS, chunk store, manifest), retrieval and fusion."""
