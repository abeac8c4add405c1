"""A byte-bounded LRU of graded results, and the content hashes that key it.

The cache is bounded by memory, not by entries: a result's size varies a hundredfold (a code item's details
carry per-test logs), so an entry count is no bound at all. Sizes are estimated (:func:`approx_size`) in
a few microseconds: a model from its JSON (pydantic's serialiser is the fastest walk of it: its length
plus a fixed cost per element), anything else by walking it; within 20 % of tracemalloc on graded results.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel

_MAX_DEPTH = 8
_BYTES_PER_ELEMENT = 150  # CPython objects behind each JSON element of a model (fitted with tracemalloc)


def content_key(*parts: Any) -> str:
    """A stable hash of JSON-able parts (dict key order does not matter). Lone surrogates hash like any other
    code point (``surrogatepass``) instead of failing the caller."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.blake2b(blob.encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def approx_size(value: Any, _depth: int = 0) -> int:
    """Roughly the bytes ``value`` holds (CPython object overheads included); exact enough to bound a cache."""
    if isinstance(value, str):
        return 49 + len(value)
    if isinstance(value, bytes):
        return 33 + len(value)
    if _depth >= _MAX_DEPTH:
        return 64
    if isinstance(value, BaseModel):
        try:
            blob = value.model_dump_json()
            return 100 + len(blob) + _BYTES_PER_ELEMENT * blob.count(",")
        except ValueError:  # not serialisable (a lone surrogate, say): walk it
            return 72 + approx_size(value.__dict__, _depth + 1)
    if isinstance(value, dict):
        return 64 + 24 * len(value) + sum(approx_size(k, _depth + 1) + approx_size(v, _depth + 1)
                                          for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return 56 + 8 * len(value) + sum(approx_size(v, _depth + 1) for v in value)
    return 32  # numbers, None, enums


class LRUCache:
    """Thread-safe LRU holding at most ``max_bytes`` (estimated); ``max_bytes == 0`` disables it. A value
    larger than the whole budget is not kept."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._data: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Any | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: str, value: Any) -> None:
        if not self.max_bytes:
            return
        size = approx_size(key) + approx_size(value)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._data[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, dropped) = self._data.popitem(last=False)
                self.bytes -= dropped

    def __len__(self) -> int:
        return len(self._data)
