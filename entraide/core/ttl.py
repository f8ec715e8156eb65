"""A small per-process cache for the hottest reads of opening day (a partner's token, the rules
in force), which may be a few seconds stale in the other processes.

Each round trip to the database costs a submission far more than the read itself when the
machine is busy; these values change rarely, and the process that changes them forgets its own
copy at once (:meth:`TTLCache.clear`), the others within ``ENTRAIDE_HOT_CACHE_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.conf import settings

V = TypeVar("V")


class TTLCache(Generic[V]):
    """Values by key for ``ENTRAIDE_HOT_CACHE_SECONDS``; ``None`` is never kept."""

    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        self._entries: dict[Hashable, tuple[float, V]] = {}

    def get_or_load(self, key: Hashable, load: Callable[[], V | None]) -> V | None:
        seconds = settings.ENTRAIDE_HOT_CACHE_SECONDS
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()
        # Absence is not kept: what does not exist yet (a token, rules) may exist a second later.
        if seconds > 0 and value is not None:
            if len(self._entries) >= self.maxsize:
                self._entries.clear()  # rare: a few thousand keys; simpler than an LRU
            self._entries[key] = (now + seconds, value)
        return value

    def clear(self) -> None:
        self._entries.clear()
