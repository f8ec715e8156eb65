"""System checks of the deployment (``manage.py check --deploy``) that Django and the libraries
do not make."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

LOCAL_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)


@checks.register(checks.Tags.caches, deploy=True)
def rate_limits_are_shared(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """Rate limits count in the default cache: local to each process, a limit is multiplied
    by the number of processes and forgotten at each restart."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend in LOCAL_CACHES:
        return [
            checks.Warning(
                "Rate limits are counted in each process's memory.",
                hint="Set REDIS_URL, so that every process counts together.",
                id="entraide.W001",
            )
        ]
    return []
