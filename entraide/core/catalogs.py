"""Translation catalogs: compiled with Babel (no system gettext needed to run), and checked
complete against a fresh extraction (which needs GNU gettext, installed by the test command)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

LANGUAGES = ("fr", "en")


def catalog_paths() -> list[Path]:
    root = Path(settings.LOCALE_PATHS[0])
    return sorted(root.glob("*/LC_MESSAGES/*.po"))


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def compile_catalogs() -> list[Path]:
    compiled = []
    for po_path in catalog_paths():
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with mo_path.open("wb") as handle:
            write_mo(handle, _read(po_path), use_fuzzy=False)
        compiled.append(mo_path)
    return compiled


@dataclass(frozen=True)
class CatalogProblem:
    catalog: str
    message: str


def _untranslated(catalog: Catalog) -> list[str]:
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.fuzzy or not all(strings):
            text = message.id[0] if isinstance(message.id, tuple | list) else message.id
            problems.append(text)
    return problems


def check_catalogs() -> list[CatalogProblem]:
    """Every string in the code is in both catalogs, translated and not fuzzy."""
    root = Path(settings.LOCALE_PATHS[0])
    problems: list[CatalogProblem] = []
    with tempfile.TemporaryDirectory() as scratch:
        # Extract into a copy, so the committed catalogs are never touched by the check.
        copy = Path(scratch) / "locale"
        shutil.copytree(root, copy)
        with override_settings(LOCALE_PATHS=[copy]):
            call_command(
                "makemessages",
                locale=list(LANGUAGES),
                ignore_patterns=[".venv/*", "var/*"],
                no_obsolete=True,
                verbosity=0,
            )
        extracted = {
            path.relative_to(copy): _read(path) for path in copy.glob("*/LC_MESSAGES/*.po")
        }
    committed = {path.relative_to(root): _read(path) for path in catalog_paths()}
    for language in LANGUAGES:
        name = Path(language) / "LC_MESSAGES" / "django.po"
        if name not in committed:
            problems.append(CatalogProblem(str(name), "missing catalog"))
            continue
        # The same text under another context (pgettext) is another message.
        known = {(message.context, message.id) for message in committed[name]}
        for message in extracted.get(name, Catalog()):
            if message.id and (message.context, message.id) not in known:
                text = message.id[0] if isinstance(message.id, tuple | list) else message.id
                problems.append(CatalogProblem(str(name), f"not in the catalog: {text!r}"))
        for text in _untranslated(committed[name]):
            problems.append(CatalogProblem(str(name), f"untranslated or fuzzy: {text!r}"))
    return problems
