"""The vector side of an index: rows cut into shards, a FAISS index type chosen per shard by its
size, and one search over all shards that ranks as a single index over all rows would.

Shards are contiguous row ranges, so a row's number is the same in the whole index and the
shard search reports global row numbers. Each shard's index is chosen for its own size:
exact search while exact search is fast (Flat), a graph (HNSW) while the raw vectors fit in
memory, and compressed vectors (IVF-PQ) beyond that.
"""

from __future__ import annotations

import math

import numpy as np

# Below this many vectors exact search is fast enough and the best FAISS choice; above it, HNSW
# (FAISS guidelines: "Flat" up to ~1M for a handful of queries, HNSW when memory allows and
# latency matters).
EXACT_SEARCH_LIMIT = 100_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# Above this many vectors in one shard, IVF-PQ: HNSW keeps every float vector plus its graph in
# memory (384 dims: 1.5 KB + ~0.3 KB a vector, 9 GB at 5M); IVF-PQ keeps 8 bits per 8 dimensions
# (48 B a vector at 384 dims) plus the ids.
HNSW_LIMIT = 5_000_000
PQ_DIMS_PER_CODE = 8  # dimensions per PQ code
PQ_BITS = 8  # bits per code: 256 centroids per sub-vector
IVF_PROBES = 32  # inverted lists searched per question
IVF_TRAIN_PER_LIST = 64  # training vectors per list (FAISS warns below 39; k-means time grows with it)


def shard_ranges(n_rows: int, shard_size: int) -> list[tuple[int, int]]:
    """(first row, row count) of each shard; one empty shard for an empty index."""
    if n_rows == 0:
        return [(0, 0)]
    return [(first, min(shard_size, n_rows - first)) for first in range(0, n_rows, shard_size)]


def ivf_lists(n_vectors: int) -> int:
    """Inverted lists for an IVF index: ~4·sqrt(n) (FAISS guideline), with enough training
    vectors for each."""
    return max(1, min(int(4 * math.sqrt(n_vectors)), n_vectors // IVF_TRAIN_PER_LIST))


def pq_codes(dim: int) -> int:
    """PQ codes per vector: the divisor of dim nearest dim / PQ_DIMS_PER_CODE."""
    target = max(1, dim // PQ_DIMS_PER_CODE)
    return min((m for m in range(1, dim + 1) if dim % m == 0), key=lambda m: (abs(m - target), m))


def index_type_for(n_vectors: int) -> str:
    """The FAISS index type a shard of n_vectors gets."""
    if n_vectors < EXACT_SEARCH_LIMIT:
        return "IndexFlatIP"
    return "IndexHNSWFlat" if n_vectors <= HNSW_LIMIT else "IndexIVFPQ"


def choose_faiss_index(n_vectors: int, dim: int):
    """An empty FAISS index suited to n_vectors inner-product rows, and its description."""
    import faiss

    kind = index_type_for(n_vectors)
    if kind == "IndexFlatIP":
        return faiss.IndexFlatIP(dim), {"type": "IndexFlatIP", "metric": "inner_product"}
    if kind == "IndexHNSWFlat":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index, {"type": "IndexHNSWFlat", "metric": "inner_product", "M": HNSW_M,
                       "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}
    return ivfpq_index(n_vectors, dim)


def ivfpq_index(n_vectors: int, dim: int):
    import faiss

    nlist, m = ivf_lists(n_vectors), pq_codes(dim)
    index = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, nlist, m, PQ_BITS, faiss.METRIC_INNER_PRODUCT)
    index.nprobe = min(IVF_PROBES, nlist)
    return index, {"type": "IndexIVFPQ", "metric": "inner_product", "nlist": nlist, "pq_codes": m,
                   "bits": PQ_BITS, "nprobe": index.nprobe}


def build_faiss(vectors: np.ndarray, seed: int = 0):
    """A FAISS index over vectors (trained first where the type needs it), and its description."""
    index, info = choose_faiss_index(len(vectors), vectors.shape[1])
    if not len(vectors):
        return index, info
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    if not index.is_trained:
        sample = min(len(data), max(info["nlist"] * IVF_TRAIN_PER_LIST, 2 ** PQ_BITS * 64))
        rows = np.sort(np.random.default_rng(seed).choice(len(data), sample, replace=False))
        index.train(data[rows])
    index.add(data)
    return index, info


def apply_search_parameters(index, info: dict) -> None:
    """Search-time settings are not all kept in FAISS files: set them from the manifest."""
    if info.get("type") == "IndexHNSWFlat":
        index.hnsw.efSearch = info.get("efSearch", HNSW_EF_SEARCH)
    elif info.get("type") == "IndexIVFPQ":
        index.nprobe = info.get("nprobe", IVF_PROBES)


class ShardedSearch:
    """One search over several shard indexes, returning global row numbers; each shard is
    searched for k and the results merged by score (FAISS IndexShards), which for exact shards
    is exactly what one index over all rows returns."""

    def __init__(self, shards: list) -> None:
        import faiss

        self.shards = shards  # the sub-indexes must outlive the FAISS object that points at them
        self._all = faiss.IndexShards(shards[0].d, False, True)
        for index in shards:
            self._all.add_shard(index)

    @property
    def ntotal(self) -> int:
        return int(self._all.ntotal)

    def search(self, queries: np.ndarray, k: int):
        return self._all.search(queries, k)


def combine(shards: list):
    """The search object over shard indexes: the index itself when there is one."""
    return shards[0] if len(shards) == 1 else ShardedSearch(shards)


class ShardedRows:
    """The vectors of several shard files, memory-mapped, read as one array of rows.

    Rows are gathered when asked for (a question's candidates, a document's rows), so a process
    serving a sharded index holds no copy of all its vectors, as with one shard."""

    def __init__(self, parts: list[np.ndarray]) -> None:
        self.parts = parts
        self.starts = np.cumsum([0] + [len(p) for p in parts])
        self.dtype = parts[0].dtype
        self.shape = (int(self.starts[-1]), *parts[0].shape[1:])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows):
        if isinstance(rows, (int, np.integer)):
            return self[[rows]][0]
        picked = np.arange(len(self))[rows] if isinstance(rows, slice) else np.asarray(rows, dtype=np.int64)
        picked = np.where(picked < 0, picked + len(self), picked)
        if picked.size and not (0 <= picked.min() and picked.max() < len(self)):
            raise IndexError(f"row out of range for {len(self)} rows")
        shard = np.searchsorted(self.starts, picked, side="right") - 1
        out = np.empty((len(picked), *self.shape[1:]), dtype=self.dtype)
        for s in np.unique(shard):
            mask = shard == s
            out[mask] = self.parts[s][picked[mask] - self.starts[s]]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = np.concatenate(self.parts)
        return whole if dtype is None else whole.astype(dtype)
