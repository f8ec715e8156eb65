from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _immediate_tasks_and_local_mail(settings: Any, tmp_path: Any) -> None:
    """Tasks run in-process and e-mails stay in ``mail.outbox``, unless a test says otherwise."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EXPORTS_DIR = tmp_path / "exports"
    # Hashing test passwords with the production hasher costs ~0.2 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Factories change tokens and rules behind the services' backs: read them every time, as
    # the tests of entraide/core/ttl.py's users turn the cache on where they test it.
    settings.ENTRAIDE_HOT_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Rate limits count in the default cache (local memory in tests): each test starts with
    none spent, so that no test hits a limit that other tests used up."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english_test_client(request: pytest.FixtureRequest) -> None:
    """Pages answer in the browser's language; tests read them in English unless they say so."""
    if "client" in request.fixturenames:
        request.getfixturevalue("client").defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def _append_only_audit_triggers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Transactional tests end with a flush (DELETE on SQLite, TRUNCATE on PostgreSQL) that the
    append-only triggers would refuse: they are lifted for the flush, restored before each test."""
    marker = request.node.get_closest_marker("django_db")
    fixtures = set(request.fixturenames)
    if marker is None and not {"db", "transactional_db", "live_server"} & fixtures:
        yield
        return
    transactional = bool({"transactional_db", "live_server"} & fixtures) or bool(
        marker is not None and marker.kwargs.get("transaction", False)
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.db import connection

    from entraide.audit.triggers import install_triggers, remove_triggers

    install_triggers(connection)
    yield
    if transactional:
        remove_triggers(connection)
