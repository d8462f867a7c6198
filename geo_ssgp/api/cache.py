"""A small thread-safe cache of computed layers, keyed by their parameters.

Keys include the store version (the ids of the stored datasets), so an ingest makes every
older entry unreachable; :meth:`LayerCache.clear` drops them at once. Concurrent requests for
the same missing key compute it once: the others wait on that key's lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class LayerCache:
    """Least-recently-used cache with per-key computation locks.

    Parameters
    ----------
    maxsize : int
        Entries kept; the least recently used is evicted beyond it.
    """

    def __init__(self, maxsize: int = 128) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value of ``key``, computing and storing it on a miss.

        Parameters
        ----------
        key : hashable
        compute : callable
            Called without arguments on a miss.

        Returns
        -------
        object
        """
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._data:  # computed by another thread meanwhile
                    self.hits += 1
                    return self._data[key]
            value = compute()
            self.put(key, value)
            with self._lock:
                self._key_locks.pop(key, None)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        """Store ``value`` under ``key`` (a result computed elsewhere, e.g. a worker process)."""
        with self._lock:
            self.misses += 1
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def peek(self, key: Hashable) -> tuple[bool, Any]:
        """``(True, value)`` when ``key`` is cached, else ``(False, None)``; never computes."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return True, self._data[key]
        return False, None

    def clear(self) -> None:
        """Drop every entry (after an ingest)."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data
