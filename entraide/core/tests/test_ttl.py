from __future__ import annotations

from typing import Any

import pytest

from entraide.core import ttl
from entraide.core.ttl import TTLCache


@pytest.fixture
def clock(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    settings.ENTRAIDE_HOT_CACHE_SECONDS = 10
    now = [1000.0]
    monkeypatch.setattr(ttl.time, "monotonic", lambda: now[0])
    return now


def test_a_value_is_kept_for_the_configured_seconds_then_read_again(clock: list[float]) -> None:
    cache: TTLCache[str] = TTLCache()
    reads: list[str] = []

    def load() -> str:
        reads.append("read")
        return f"value {len(reads)}"

    assert cache.get_or_load("key", load) == "value 1"
    clock[0] += 9.9
    assert cache.get_or_load("key", load) == "value 1"
    clock[0] += 0.2
    assert cache.get_or_load("key", load) == "value 2"
    cache.clear()
    assert cache.get_or_load("key", load) == "value 3"


def test_absence_is_never_kept(clock: list[float]) -> None:
    cache: TTLCache[str] = TTLCache()
    values = iter([None, "created since"])
    assert cache.get_or_load("key", lambda: next(values)) is None
    assert cache.get_or_load("key", lambda: next(values)) == "created since"


def test_zero_seconds_reads_every_time(clock: list[float], settings: Any) -> None:
    settings.ENTRAIDE_HOT_CACHE_SECONDS = 0
    cache: TTLCache[int] = TTLCache()
    values = iter([1, 2])
    assert cache.get_or_load("key", lambda: next(values)) == 1
    assert cache.get_or_load("key", lambda: next(values)) == 2


def test_a_full_cache_starts_again(clock: list[float]) -> None:
    cache: TTLCache[int] = TTLCache(maxsize=2)
    cache.get_or_load("a", lambda: 1)
    cache.get_or_load("b", lambda: 2)
    cache.get_or_load("c", lambda: 3)
    assert cache.get_or_load("a", lambda: 10) == 10
