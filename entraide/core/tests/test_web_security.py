"""Web hardening: a strict Content-Security-Policy that every page keeps to (nothing inline),
the security headers, CSRF on every form of the site, the API's bearer tokens only, and a
production configuration that ``check --deploy`` finds nothing to say about."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import lxml.html
import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, reverse

from entraide.accounts.tests.factories import UserFactory, with_authenticator_app
from entraide.core.tests.site_urls import site_patterns
from entraide.core.tests.worker import DATABASE_TASKS
from entraide.funds.tests.test_views import ACTORS, MATRIX, OK, URL_KWARGS, World
from entraide.intake.api import api

ROOT = Path(__file__).resolve().parents[3]
POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
)
# <script> elements that are data, never run (allauth's and ninja's settings): CSP has no say.
DATA_SCRIPT_TYPES = frozenset({"application/json", "application/ld+json"})
ADDRESSES = frozenset({"href", "src", "action", "formaction"})


def inline_code_of(html: str) -> list[str]:
    """What a page holds that a strict policy would block: inline scripts, <style> elements,
    style attributes, event handler attributes, javascript: addresses."""
    found = []
    document = lxml.html.document_fromstring(html)
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        tag = element.tag.lower()
        kind = (element.get("type") or "").lower()
        if tag == "script" and not element.get("src") and kind not in DATA_SCRIPT_TYPES:
            found.append("<script> without src: " + repr((element.text or "")[:60]))
        if tag == "style":
            found.append("<style> element")
        for raw_name, raw_value in element.attrib.items():
            name, value = cast(str, raw_name).lower(), cast(str, raw_value)
            if name == "style":
                found.append(f"style= on <{tag}>: " + repr(value[:60]))
            elif name.startswith("on"):
                found.append(f"{name}= on <{tag}>")
            elif name in ADDRESSES and value.strip().lower().startswith("javascript:"):
                found.append(f"javascript: address in {name}= of <{tag}>")
    return found


def problems_of(response: Any) -> list[str]:
    """Why a response breaks the policy: no header, or inline code in its HTML."""
    problems = []
    policy = response.get("Content-Security-Policy", "")
    if not policy:
        problems.append("no Content-Security-Policy header")
    # Read whole (a streamed response closes as the server would, once read).
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("text/html"):
        missing = [directive for directive in POLICY if directive not in policy.split("; ")]
        if missing:
            problems.append(f"policy lacks {missing}")
        problems.extend(inline_code_of(content.decode()))
    return problems


# --------------------------------------------------------------------------------------------
# The policy and the headers
# --------------------------------------------------------------------------------------------


def test_every_page_says_the_strict_policy_and_the_security_headers(
    client: Client, db: None
) -> None:
    response = client.get(reverse("home"))

    assert sorted(response["Content-Security-Policy"].split("; ")) == sorted(POLICY)
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions


def test_the_error_pages_keep_the_policy(client: Client, db: None) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert problems_of(response) == []


def test_a_form_sent_without_its_csrf_token_is_refused_on_a_page_of_ours(db: None) -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")

    response = client.post(reverse("account_login"), {"login": "a@example.org"})

    assert response.status_code == 403
    assert "This form could not be sent" in response.content.decode()
    assert problems_of(response) == []  # not Django's page, with its inline <style>


def test_inline_code_is_found_wherever_it_hides() -> None:
    html = (
        '<html><head><style>p{}</style></head><body><p style="color:red">x</p>'
        '<button onclick="go()">go</button><a href=" javascript:go()">go</a>'
        "<script>go()</script><script src=/static/x.js></script>"
        '<script type="application/json">{"data": 1}</script></body></html>'
    )

    assert len(inline_code_of(html)) == 5


@pytest.fixture
def world(db: None, settings: Any, monkeypatch: Any, tmp_path: Any) -> World:
    settings.TASKS = DATABASE_TASKS
    settings.DOCUMENTS_DIR = tmp_path / "documents"
    return World(monkeypatch)


def test_no_page_of_the_site_holds_inline_code_or_escapes_the_policy(world: World) -> None:
    """Every page of the permission matrix, as someone who may see it."""
    assert world.payment_batch  # before the other awards, which it would otherwise pay
    for user in world.actors.values():
        if user is not None:
            with_authenticator_app(user)  # the back office asks some of them for it
    seen: dict[str, list[str]] = {}
    for method, name, expectations in MATRIX:
        if method != "get" or OK not in expectations:
            continue
        url = reverse(name, kwargs=URL_KWARGS[name](world))
        statuses = []
        for actor, expected in zip(ACTORS, expectations, strict=True):
            if expected != OK:
                continue
            client = Client(HTTP_ACCEPT_LANGUAGE="en")
            user = world.actors[actor]
            if user is not None:
                client.force_login(user)
            response = client.get(url)
            statuses.append(response.status_code)
            if response.status_code == 200:
                seen[name] = problems_of(response)
                break
            problems_of(response)  # read whole
        else:
            seen[name] = [f"no one got the page: {statuses}"]

    assert len(seen) > 60
    assert {name: problems for name, problems in seen.items() if problems} == {}


def _account_pages() -> list[str]:
    """The names of allauth's pages (``accounts/...``)."""
    from entraide.urls import urlpatterns

    names: list[str] = []
    for pattern in urlpatterns:
        if isinstance(pattern, URLResolver) and str(pattern.pattern) == "accounts/":
            names.extend(p.name for p in _leaves(pattern.url_patterns) if p.name)
    return names


def _leaves(patterns: Any) -> Any:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _leaves(pattern.url_patterns)
        else:
            yield pattern


def test_no_account_page_holds_inline_code(client: Client, db: None) -> None:
    """allauth's pages (logging in, signing up, passwords, two-factor), anonymous and logged
    in: whatever answers a page."""
    user = UserFactory.create()
    found: dict[str, list[str]] = {}
    shown = 0
    for logged_in in (False, True):
        visitor = Client(HTTP_ACCEPT_LANGUAGE="en")
        if logged_in:
            visitor.force_login(user)
        for name in _account_pages():
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            response = visitor.get(url)
            if response.status_code != 200:
                continue
            shown += 1
            if problems := problems_of(response):
                found[f"{name} ({'user' if logged_in else 'anonymous'})"] = problems

    assert shown >= 8
    assert found == {}


def test_the_api_documentation_loads_nothing_from_elsewhere_and_runs_nothing_inline(
    client: Client, db: None
) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert problems_of(response) == []
    page = lxml.html.document_fromstring(response.content)
    for address in page.xpath("//script/@src | //link/@href"):
        assert address.startswith("/static/"), address


def test_a_document_keeps_its_own_stricter_policy(client: Client, db: None) -> None:
    """django-csp leaves a policy a view set alone (the documents' sandbox)."""
    from entraide.applications.views import DOWNLOAD_POLICY

    assert "sandbox" in DOWNLOAD_POLICY
    assert "script-src" not in DOWNLOAD_POLICY


# --------------------------------------------------------------------------------------------
# CSRF
# --------------------------------------------------------------------------------------------


def csrf_refused(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW during the test: a refusal for a missing token says so."""
    return HttpResponse(status=403, headers={"X-CSRF-Refused": reason or "yes"})


def _reversed(pattern: URLPattern, world: World) -> str | None:
    name = pattern.name or ""
    if name in URL_KWARGS:
        return reverse(name, kwargs=URL_KWARGS[name](world))
    candidates = ({key: value for key in pattern.pattern.converters} for value in ("1", "x1"))
    for kwargs in ({}, *candidates):
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    return None


def test_every_form_of_the_site_refuses_a_post_without_its_csrf_token(
    world: World, settings: Any
) -> None:
    """Every address but the API's and the admin site's (its addresses are namespaced; the same
    middleware guards them, and no view is exempt: below), posted to by a person logged in
    (session cookie) without the token: refused before the view, whatever the page."""
    settings.CSRF_FAILURE_VIEW = f"{__name__}.csrf_refused"
    assert world.payment_batch  # before the other awards, which it would otherwise pay
    superuser = with_authenticator_app(UserFactory.create(is_staff=True, is_superuser=True))
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser)
    posted, accepted = 0, []
    for pattern in site_patterns(("api/", "admin/")):
        if not pattern.name:
            continue
        url = _reversed(pattern, world)
        if url is None:
            continue
        response = client.post(url, {"anything": "1"})
        posted += 1
        if response.status_code != 403 or "X-CSRF-Refused" not in response:
            accepted.append(f"{pattern.name}: {response.status_code}")

    assert posted > 120
    assert accepted == []


def test_no_view_of_the_site_is_exempt_from_csrf() -> None:
    exempt = [
        pattern.name
        for pattern in site_patterns(("api/",))
        if getattr(pattern.callback, "csrf_exempt", False)
    ]
    assert exempt == []


def test_the_api_takes_bearer_tokens_only_never_a_session(db: None) -> None:
    """The API's views are CSRF-exempt (ninja's): they must then never take a session cookie as
    authentication, or a page elsewhere could post to them with the person's cookie."""
    schema = api.get_openapi_schema()
    schemes = schema["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} == {"http"}
    assert {scheme["scheme"] for scheme in schemes.values()} == {"bearer"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("security"), f"{method} {path} has no authentication"

    superuser = UserFactory.create(is_staff=True, is_superuser=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    for method, url in (
        ("post", "/api/v1/funds/any/applications"),
        ("get", "/api/v1/funds/any/applications"),
        ("post", "/api/v1/evidence/imports"),
        ("get", "/api/v1/evidence/imports/1"),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 401, url
        assert response["Content-Type"] == "application/problem+json"


# --------------------------------------------------------------------------------------------
# Production settings
# --------------------------------------------------------------------------------------------


def production_environment(tmp_path: Path) -> dict[str, str]:
    """What production must set (docs/production.md), and nothing from this test run."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH"}
    return {
        **{name: value for name, value in os.environ.items() if name in keep},
        "DJANGO_SETTINGS_MODULE": "entraide.settings",
        "ENTRAIDE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "entraide.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
        "ENTRAIDE_VAR_DIR": str(tmp_path / "var"),
        "ENTRAIDE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ENTRAIDE_BLIND_INDEX_KEY": secrets.token_hex(32),
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }


def test_check_deploy_finds_nothing_in_production_settings(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert "System check identified no issues" in completed.stdout
    assert "WARNING" not in completed.stderr + completed.stdout


def test_check_deploy_warns_when_rate_limits_are_not_shared(tmp_path: Path) -> None:
    environment = production_environment(tmp_path)
    del environment["REDIS_URL"]

    completed = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode != 0
    assert "entraide.W001" in completed.stderr + completed.stdout


def test_production_cookies_are_secure_host_only_and_same_site(tmp_path: Path) -> None:
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "SESSION_COOKIE_NAME",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_SAMESITE",
        "CSRF_COOKIE_NAME",
        "LANGUAGE_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "CACHES",
    ]
    script = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {names!r}}}))"
    )
    completed = subprocess.run(  # noqa: S603 - this project's own settings, read
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=production_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    production = json.loads(completed.stdout.strip().splitlines()[-1])

    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert production["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert production["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert production["LANGUAGE_COOKIE_SECURE"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["CACHES"]["default"]["BACKEND"] == (
        "django.core.cache.backends.redis.RedisCache"
    )


def test_development_keeps_a_local_cache_and_plain_cookies() -> None:
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings.SESSION_COOKIE_NAME == "sessionid"
