"""The native backend: PMML compiled into NumPy array programs (see compile.py)."""
from .backend import NativeBackend

__all__ = ["NativeBackend"]
