"""The pages of the site, for the tests that go through every one of them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.urls import URLPattern, URLResolver


def site_patterns(excluded_prefixes: tuple[str, ...]) -> Iterator[URLPattern]:
    """Every page of the site, those of the included URL files too, but those whose address
    starts with one of ``excluded_prefixes``."""
    from entraide.urls import urlpatterns

    yield from _walk(urlpatterns, "", excluded_prefixes)


def _walk(
    patterns: Sequence[URLPattern | URLResolver], prefix: str, excluded: tuple[str, ...]
) -> Iterator[URLPattern]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(excluded):
            continue
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route, excluded)
        else:
            yield pattern
