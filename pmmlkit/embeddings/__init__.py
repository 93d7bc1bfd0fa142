"""Two towers: embedding tables (ALS or imported), versioned stores (file, Redis), lookups at scoring time."""
from .lookups import LookupEvaluator, with_lookups
from .store import EmbeddingStore, open_store

__all__ = ["EmbeddingStore", "LookupEvaluator", "open_store", "with_lookups"]
