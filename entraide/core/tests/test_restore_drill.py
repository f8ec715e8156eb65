"""The restore drill: a backup of the database and the documents restores, and what was
tampered with or lost is caught. Runs on the suite's database (SQLite, or PostgreSQL with
pg_dump and pg_restore)."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import translation

from entraide.audit import services as audit
from entraide.audit.triggers import install_triggers, remove_triggers
from entraide.core.backups import (
    DOCUMENTS_ARCHIVE,
    MANIFEST,
    SQLITE_FILE,
    _sha256_file,
    make_backup,
    restore_drill,
)
from entraide.core.crypto import encrypt_bytes
from entraide.funds.tests.factories import FundFactory

# pg_dump reads what is committed: the test's rows must be.
pytestmark = pytest.mark.django_db(transaction=True)
# What does not depend on the database is tested once, on SQLite: a drill on PostgreSQL (dump,
# scratch database, restore) takes about 15 s.
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="tested on SQLite")


@pytest.fixture(autouse=True)
def _tools_and_documents(settings: Any, tmp_path: Path) -> None:
    if connection.vendor == "postgresql" and not shutil.which("pg_restore"):
        if os.environ.get("CI"):
            pytest.fail("pg_dump/pg_restore are missing: install postgresql-client")
        pytest.skip("pg_dump/pg_restore are missing (apt-get install postgresql-client)")
    documents = tmp_path / "documents"
    (documents / "ab").mkdir(parents=True)
    (documents / "ab" / "1f3e.pdf").write_bytes(encrypt_bytes(b"%PDF-1.7 payslip"))
    (documents / "c0d1.png").write_bytes(encrypt_bytes(b"\x89PNG id card"))
    settings.DOCUMENTS_DIR = documents


def record_events(count: int) -> None:
    fund = FundFactory.create()
    for index in range(count):
        with transaction.atomic():
            audit.record(
                actor=None,
                action="fund.changed",
                obj=fund,
                changes={"budget": {"before": str(index), "after": str(index + 1)}},
                fund_id=fund.pk,
            )


def failed(report: Any) -> set[str]:
    return {check.name for check in report.checks if not check.ok}


def test_a_backup_restores_with_its_audit_chain_rows_and_documents(tmp_path: Path) -> None:
    record_events(5)

    backup = make_backup(tmp_path / "backups")
    report = restore_drill(backup)

    assert report.ok, report.checks
    assert report.check("audit chain").detail.startswith("5 events")
    manifest = json.loads((backup / MANIFEST).read_text())
    assert manifest["tables"]["audit_auditevent"] == 5
    assert manifest["tables"]["funds_fund"] == 1
    assert sorted(manifest["documents"]) == ["ab/1f3e.pdf", "c0d1.png"]
    assert report.check("documents").detail == "2 files restored, SHA-256 identical"
    # The backup keeps the documents as stored: encrypted.
    with tarfile.open(backup / DOCUMENTS_ARCHIVE) as tar:
        member = tar.extractfile("ab/1f3e.pdf")
        assert member is not None
        stored = member.read()
    assert b"payslip" not in stored
    assert (backup.stat().st_mode & 0o777) == 0o700
    # Nothing of the scratch copies is left behind.
    assert sorted(path.name for path in backup.iterdir()) == sorted(
        [MANIFEST, DOCUMENTS_ARCHIVE, manifest["database_file"]]
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s", ["%_drill_%"])
            assert cursor.fetchone()[0] == 0


@sqlite_only
def test_the_command_backs_up_drills_and_says_so(tmp_path: Path) -> None:
    record_events(2)
    out = io.StringIO()

    call_command("ops", "restore-drill", "--to", str(tmp_path / "backups"), stdout=out)

    report = out.getvalue()
    assert "OK    audit chain: 2 events" in report
    assert "OK    row counts:" in report
    assert report.rstrip().endswith("restore drill passed")
    assert len(list((tmp_path / "backups").iterdir())) == 1  # the backup is kept


def test_a_backup_of_a_tampered_audit_log_fails_the_drill(tmp_path: Path) -> None:
    record_events(3)
    remove_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'fund.deleted' WHERE sequence = 2")
    install_triggers(connection)

    with translation.override("en"):
        report = restore_drill(make_backup(tmp_path / "backups"))

    assert not report.ok
    assert failed(report) == {"audit chain"}
    assert "#2: the content of the event was altered" in report.check("audit chain").detail


@sqlite_only
def test_an_audit_row_tampered_with_in_the_backup_file_fails_the_drill(tmp_path: Path) -> None:
    record_events(3)
    backup = make_backup(tmp_path / "backups")
    copy = sqlite3.connect(backup / SQLITE_FILE)
    copy.execute("DROP TRIGGER audit_event_no_update")
    copy.execute("UPDATE audit_auditevent SET changes = '{}' WHERE sequence = 3")
    copy.commit()
    copy.close()

    report = restore_drill(backup)

    assert failed(report) == {f"file {SQLITE_FILE}", "audit chain"}
    with pytest.raises(CommandError, match="restore drill FAILED: 2 check"):
        call_command("ops", "restore-drill", "--backup", str(backup), stdout=io.StringIO())


@sqlite_only
def test_a_table_that_lost_rows_fails_the_drill(tmp_path: Path) -> None:
    record_events(2)
    backup = make_backup(tmp_path / "backups")
    manifest = json.loads((backup / MANIFEST).read_text())
    manifest["tables"]["funds_fund"] += 1  # one more than the backup holds
    (backup / MANIFEST).write_text(json.dumps(manifest))

    report = restore_drill(backup)

    assert failed(report) == {"row counts"}
    assert report.check("row counts").detail == "funds_fund: 2 backed up, 1 restored"


@sqlite_only
def test_a_document_that_differs_fails_the_drill(tmp_path: Path) -> None:
    backup = make_backup(tmp_path / "backups")
    archive = backup / DOCUMENTS_ARCHIVE
    with tarfile.open(archive, "w") as tar:  # the same names, one of them with other bytes
        for name, data in (("ab/1f3e.pdf", b"other"), ("c0d1.png", b"")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    manifest = json.loads((backup / MANIFEST).read_text())
    manifest["files"][DOCUMENTS_ARCHIVE] = _sha256_file(archive)
    (backup / MANIFEST).write_text(json.dumps(manifest))

    report = restore_drill(backup)

    assert failed(report) == {"documents"}
    assert "2 different" in report.check("documents").detail


@sqlite_only
def test_a_backup_that_fails_half_way_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("entraide.core.backups._archive_documents", disk_full)

    with pytest.raises(OSError, match="No space left"):
        make_backup(tmp_path / "backups")

    assert list((tmp_path / "backups").iterdir()) == []
