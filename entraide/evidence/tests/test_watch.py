"""``entraide evidence watch``: files dropped in the watched folder are imported once they stop
changing, then filed in done/ or failed/ with a report beside them."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from entraide.evidence import watch
from entraide.evidence.models import EmployerDeclaration, EvidenceBatch
from entraide.evidence.tests.helpers import declarations_csv

pytestmark = pytest.mark.django_db(transaction=True)


def folder() -> Path:
    return Path(settings.EVIDENCE_WATCH_DIR)


def drop(name: str, content: bytes) -> None:
    folder().mkdir(parents=True, exist_ok=True)
    (folder() / name).write_bytes(content)


def watch_once(*args: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    call_command("evidence", "watch", "--once", "--interval", "0", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def report_of(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.with_name(path.name + ".json").read_text())
    return report


def files_in(subfolder: str) -> list[str]:
    return sorted(path.name for path in (folder() / subfolder).iterdir())


def test_a_good_file_is_imported_and_filed_in_done() -> None:
    drop("declarations-2024-01.csv", declarations_csv())

    told = watch_once()

    batch = EvidenceBatch.objects.get()
    assert (batch.status, batch.rows, batch.rows_rejected) == ("done", 2, 1)
    assert batch.source == "watched folder: declarations-2024-01.csv"
    assert batch.loaded_by is None  # the platform
    assert files_in("done") == ["declarations-2024-01.csv", "declarations-2024-01.csv.json"]
    assert files_in("processing") == files_in("failed") == []
    assert watch.look(folder()) == {}
    report = report_of(folder() / "done" / "declarations-2024-01.csv")
    assert report["outcome"] == "imported"
    assert report["kind"] == "declarations"
    assert (report["batch"], report["imported"], report["rejected"]) == (batch.pk, 2, 1)
    assert told == [report]


def test_a_file_already_imported_is_filed_in_failed_naming_its_batch() -> None:
    drop("declarations-2024-01.csv", declarations_csv())
    watch_once()
    first = EvidenceBatch.objects.get()
    drop("declarations-2024-01.csv", declarations_csv())  # the same file, dropped again

    watch_once()

    assert EvidenceBatch.objects.count() == 1
    assert EmployerDeclaration.objects.count() == 2
    assert files_in("failed") == ["declarations-2024-01.csv", "declarations-2024-01.csv.json"]
    report = report_of(folder() / "failed" / "declarations-2024-01.csv")
    assert (report["outcome"], report["code"], report["batch"]) == (
        "refused",
        "already_imported",
        first.pk,
    )


def test_a_file_whose_name_names_no_kind_is_filed_in_failed_with_the_reason() -> None:
    drop("payroll.csv", declarations_csv())
    drop("rightsholders.csv", declarations_csv())

    told = watch_once()

    assert not EvidenceBatch.objects.exists()
    assert [report["code"] for report in told] == ["unknown_kind", "unknown_kind"]
    assert files_in("failed") == [
        "payroll.csv",
        "payroll.csv.json",
        "rightsholders.csv",
        "rightsholders.csv.json",
    ]
    # Dropped again: filed beside the first, under another name.
    drop("payroll.csv", b"")
    watch_once()
    assert "payroll-2.csv" in files_in("failed")
    assert report_of(folder() / "failed" / "payroll-2.csv")["kind"] is None


def test_a_file_still_being_copied_waits_for_the_next_look(monkeypatch: pytest.MonkeyPatch) -> None:
    drop("rights.csv", b"nir,annex,opened_on")

    def copying(seconds: float) -> None:  # the copy goes on while the watcher waits
        with (folder() / "rights.csv").open("ab") as handle:
            handle.write(b",ends_on,status\n")

    monkeypatch.setattr(watch.time, "sleep", copying)
    assert watch_once() == []

    assert set(watch.look(folder())) == {"rights.csv"}
    assert not EvidenceBatch.objects.exists()


def test_hidden_files_and_other_folders_are_left_alone() -> None:
    drop(".declarations.csv.part", declarations_csv())
    (folder() / "declarations-archive").mkdir()

    assert watch_once() == []
    assert (folder() / ".declarations.csv.part").exists()
