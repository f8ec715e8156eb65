"""The watched folder: ``entraide evidence watch`` imports the evidence files dropped in it.

A file is taken once its size and modification time are the same at two looks in a row (a file
still being copied changes between them), if its name starts with a kind of evidence
(``declarations-2020-03.csv``, ``rights.parquet``). It is moved into ``processing/``, imported as
the platform (source "watched folder: <name>") as an uploaded file is, then moved into ``done/``
(imported) or ``failed/`` (refused, or no kind in its name), beside ``<name>.json`` saying what
happened. A file is never overwritten: a name already taken there gets a number.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from entraide.evidence import imports
from entraide.evidence.tasks import import_file

logger = logging.getLogger(__name__)

PROCESSING, DONE, FAILED = "processing", "done", "failed"
# A kind, then anything but a letter: "rights-2020.csv", not "rightsholders.csv".
KIND_IN_NAME = re.compile(rf"^({'|'.join(imports.SPECS)})(?![a-z])", re.IGNORECASE)

Signature = tuple[int, int]  # size, modification time (ns)


def kind_of(name: str) -> str | None:
    match = KIND_IN_NAME.match(name)
    return match.group(1).lower() if match else None


def look(folder: Path) -> dict[str, Signature]:
    """The files waiting in the folder (not its subfolders, nor hidden files)."""
    files = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and not entry.name.startswith("."):
                stat = entry.stat(follow_symlinks=False)
                files[entry.name] = (stat.st_size, stat.st_mtime_ns)
    return files


def watch(
    folder: Path, *, interval: float, once: bool, tell: Callable[[dict[str, Any]], None]
) -> None:
    """Import the files that have stopped changing, every ``interval`` seconds (``once``: the
    files unchanged after ``interval`` seconds, then stop); ``tell`` gets what happened to each."""
    for subfolder in (PROCESSING, DONE, FAILED):
        (folder / subfolder).mkdir(parents=True, exist_ok=True)
    seen = look(folder)
    while True:
        time.sleep(interval)
        now = look(folder)
        for name in sorted(name for name, signature in now.items() if seen.get(name) == signature):
            try:
                tell(process(folder, name))
            except OSError:  # gone meanwhile (deleted, or taken by another watcher): go on
                logger.warning("evidence watch: %s could not be moved", name)
        if once:
            return
        seen = now


def process(folder: Path, name: str) -> dict[str, Any]:
    kind = kind_of(name)
    if kind is None:
        result = {
            "outcome": "refused",
            "code": "unknown_kind",
            "message": _("The file name does not start with a kind of evidence (%(kinds)s).")
            % {"kinds": ", ".join(imports.SPECS)},
        }
        return _file(name, folder / name, folder / FAILED, kind, result)
    path = _move(folder / name, folder / PROCESSING)
    try:
        result = import_file(kind=kind, path=path, source=f"watched folder: {name}", actor=None)
    except Exception as error:
        # Not the file's fault (the database went away...): said in its report, and the
        # watcher goes on with the next files.
        logger.exception("evidence watch: importing %s failed", name)
        result = {"outcome": "failed", "code": "internal_error", "message": repr(error)}
    destination = folder / (DONE if result["outcome"] == "imported" else FAILED)
    return _file(name, path, destination, kind, result)


def _file(
    name: str, path: Path, destination: Path, kind: str | None, result: dict[str, Any]
) -> dict[str, Any]:
    """Move the file where it belongs, with its report beside it."""
    report = {"file": name, "kind": kind, **result, "at": timezone.now().isoformat()}
    moved = _move(path, destination)
    report["moved_to"] = str(moved)
    _report_path(moved).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _report_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _move(path: Path, destination: Path) -> Path:
    target = destination / path.name
    number = 1
    while target.exists() or _report_path(target).exists():
        number += 1
        target = destination / f"{Path(path.name).stem}-{number}{Path(path.name).suffix}"
    return path.replace(target)
