"""Backups, and the restore drill that proves a backup can be restored.

A backup set is a directory holding:

- the database: on PostgreSQL ``database.dump`` (``pg_dump -Fc``), on SQLite ``database.sqlite3``
  (SQLite's online backup API, consistent while the application writes);
- ``documents.tar``: the applicants' documents (``ENTRAIDE_DOCUMENTS_DIR``), as stored, that is
  encrypted: restoring them needs the encryption keys, which are backed up apart (never in the
  same place as the backups);
- ``manifest.json``: the row count of every table and the SHA-256 of every document at the
  time of the backup, and the SHA-256 of the two files above.

The counts are taken in the very snapshot the backup copies (PostgreSQL: one repeatable-read
transaction exports its snapshot to ``pg_dump --snapshot``; SQLite: one read transaction counts
and copies), so they agree with the backup even while people keep working.

The drill restores a set somewhere harmless (a scratch database created and dropped again on
the same PostgreSQL server, or a scratch SQLite file), then checks: the files are intact, the
audit log's hash chain holds in the restored database (``entraide.audit.verify``), every table
has the same number of rows as the manifest says, and every document comes back with the same
SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.utils import load_backend

from entraide.audit.verify import verify_chain

MANIFEST = "manifest.json"
DOCUMENTS_ARCHIVE = "documents.tar"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup could not be made (a tool missing or failing)."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class DrillReport:
    backup: Path
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    def check(self, name: str) -> Check:
        return next(check for check in self.checks if check.name == name)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _vendor() -> str:
    return connections[DEFAULT_DB_ALIAS].vendor


# --------------------------------------------------------------------------------------------
# Backing up
# --------------------------------------------------------------------------------------------


def make_backup(destination: Path) -> Path:
    """A new backup set in ``destination``; returns its directory."""
    destination.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    backup = destination / f"entraide-{stamp}"
    suffix = 1
    while True:
        try:
            backup.mkdir(mode=0o700)
            break
        except FileExistsError:
            suffix += 1
            backup = destination / f"entraide-{stamp}-{suffix}"
    try:
        _write_backup(backup)
    except BaseException:
        shutil.rmtree(backup, ignore_errors=True)  # no half backup set left to be trusted
        raise
    return backup


def _write_backup(backup: Path) -> None:
    """The database first, then the documents: a document added meanwhile is only extra."""
    vendor = _vendor()
    try:
        if vendor == "postgresql":
            database_file = backup / POSTGRES_FILE
            tables = _backup_postgresql(database_file)
        elif vendor == "sqlite":
            database_file = backup / SQLITE_FILE
            tables = _backup_sqlite(database_file)
        else:
            raise BackupError(f"no backup for a {vendor} database")
    except (sqlite3.Error, DatabaseError) as error:
        raise BackupError(f"the database could not be read: {error}") from error
    documents = _archive_documents(Path(settings.DOCUMENTS_DIR), backup / DOCUMENTS_ARCHIVE)
    manifest = {
        "format": 1,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "vendor": vendor,
        "database_file": database_file.name,
        "files": {
            database_file.name: _sha256_file(database_file),
            DOCUMENTS_ARCHIVE: _sha256_file(backup / DOCUMENTS_ARCHIVE),
        },
        "tables": tables,
        "documents": documents,
    }
    (backup / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))


def _archive_documents(source: Path, archive: Path) -> dict[str, str]:
    """A tar of the documents as stored (encrypted), and the SHA-256 of each, read once."""
    hashes: dict[str, str] = {}
    with tarfile.open(archive, "w") as tar:
        paths = sorted(source.rglob("*")) if source.is_dir() else []
        for path in paths:
            if not path.is_file() or path.is_symlink():
                continue
            try:
                data = path.read_bytes()
                mtime = path.stat().st_mtime
            except FileNotFoundError:  # deleted meanwhile (a draft discarded)
                continue
            name = path.relative_to(source).as_posix()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(mtime), 0o600
            tar.addfile(info, io.BytesIO(data))
            hashes[name] = hashlib.sha256(data).hexdigest()
    os.chmod(archive, 0o600)
    return hashes


# SQLite ----------------------------------------------------------------------------------------


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return {
        table: connection.execute(
            'SELECT count(*) FROM "{}"'.format(table.replace('"', '""'))  # noqa: S608 (a quoted name)
        ).fetchone()[0]
        for table in tables
    }


def _backup_sqlite(target: Path) -> dict[str, int]:
    """The online backup API, from one read transaction that also counts the rows."""
    source_path = Path(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, isolation_level=None)
    try:
        source.execute("BEGIN")
        counts = _sqlite_counts(source)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            # One self-contained file: no -wal/-shm beside it when it is read later.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
        source.execute("COMMIT")
    finally:
        source.close()
    os.chmod(target, 0o600)
    return counts


# PostgreSQL ------------------------------------------------------------------------------------


def _pg_params(database: str | None = None) -> dict[str, Any]:
    """psycopg's connection parameters of the default database (or another on its server)."""
    settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
    params: dict[str, Any] = {
        "dbname": database or settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
    }
    for option in ("sslmode", "sslrootcert", "sslcert", "sslkey", "passfile", "service"):
        if option in settings_dict.get("OPTIONS", {}):
            params[option] = settings_dict["OPTIONS"][option]
    return {key: value for key, value in params.items() if value is not None}


def _pg_environment(database: str | None = None) -> dict[str, str]:
    """The environment of pg_dump / pg_restore: the password never on the command line."""
    names = {
        "dbname": "PGDATABASE",
        "user": "PGUSER",
        "password": "PGPASSWORD",
        "host": "PGHOST",
        "port": "PGPORT",
        "sslmode": "PGSSLMODE",
        "sslrootcert": "PGSSLROOTCERT",
        "sslcert": "PGSSLCERT",
        "sslkey": "PGSSLKEY",
        "passfile": "PGPASSFILE",
        "service": "PGSERVICE",
    }
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    for key, value in _pg_params(database).items():
        env[names[key]] = str(value)
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is missing: install PostgreSQL's client (postgresql-client)")
    return path


def _run(command: list[str], env: dict[str, str]) -> None:
    # pg_dump / pg_restore by their full path, with options we build: no shell, no user input.
    completed = subprocess.run(  # noqa: S603
        command, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        # The tool's last lines only: enough to act on, and no table's contents.
        tail = " / ".join(completed.stderr.strip().splitlines()[-3:])[:500]
        raise BackupError(f"{Path(command[0]).name} failed ({completed.returncode}): {tail}")


def _pg_counts(connection: Any) -> dict[str, int]:
    from psycopg import sql

    tables = connection.execute(
        "SELECT n.nspname, c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2"
    ).fetchall()
    counts = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        name = table if schema == "public" else f"{schema}.{table}"
        counts[name] = connection.execute(query).fetchone()[0]
    return counts


def _backup_postgresql(target: Path) -> dict[str, int]:
    """``pg_dump -Fc`` of the snapshot in which the rows are counted."""
    import psycopg

    pg_dump = _tool("pg_dump")
    try:
        with psycopg.connect(**_pg_params()) as connection:
            connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            connection.read_only = True
            row = connection.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            _run(
                [pg_dump, "--format=custom", f"--snapshot={row[0]}", f"--file={target}"],
                _pg_environment(),
            )
            counts = _pg_counts(connection)
            connection.rollback()
    except psycopg.Error as error:
        raise BackupError(f"PostgreSQL: {error}") from error
    os.chmod(target, 0o600)
    return counts


# --------------------------------------------------------------------------------------------
# The drill
# --------------------------------------------------------------------------------------------


def restore_drill(backup: Path, *, on_step: Callable[[str], None] | None = None) -> DrillReport:
    """Restore ``backup`` into scratch space, check it, and clean up whatever happens."""
    report = DrillReport(backup)
    say = on_step or (lambda step: None)
    try:
        manifest = json.loads((backup / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        report.add("manifest", False, f"cannot read {MANIFEST}: {error}")
        return report
    say("files")
    for name, expected in sorted(manifest["files"].items()):
        path = backup / name
        actual = _sha256_file(path) if path.exists() else "missing"
        report.add(
            f"file {name}",
            actual == expected,
            f"SHA-256 {expected[:12]}… as recorded"
            if actual == expected
            else f"SHA-256 {actual[:12]}…, recorded {expected[:12]}…",
        )
    database_file = backup / manifest["database_file"]
    vendor = manifest["vendor"]
    if vendor != _vendor():
        report.add("database", False, f"a {vendor} backup, but this site runs on {_vendor()}")
    else:
        restore = _restored_postgresql if vendor == "postgresql" else _restored_sqlite
        say("database")
        try:
            with restore(database_file) as (alias, counts):
                say("audit chain")
                _check_audit(report, alias)
                _check_counts(report, manifest["tables"], counts)
        except BackupError as error:
            report.add("database restored", False, str(error))
    say("documents")
    _check_documents(report, backup / DOCUMENTS_ARCHIVE, manifest["documents"])
    return report


def _check_audit(report: DrillReport, alias: str) -> None:
    try:
        chain = verify_chain(using=alias)
    except DatabaseError as error:
        report.add("audit chain", False, f"cannot be read in the restored database: {error}")
        return
    if chain.ok:
        report.add("audit chain", True, f"{chain.events_checked} events, every hash and link holds")
    else:
        problems = "; ".join(f"#{p.sequence}: {p.message}" for p in chain.problems[:5])
        count = len(chain.problems)
        report.add(
            "audit chain",
            False,
            f"BROKEN: {count} problem(s) in {chain.events_checked} events: {problems}",
        )


def _check_counts(report: DrillReport, expected: dict[str, int], actual: dict[str, int]) -> None:
    differences = [
        f"{table}: {expected.get(table, 'absent')} backed up, "
        f"{actual.get(table, 'absent')} restored"
        for table in sorted(set(expected) | set(actual))
        if expected.get(table) != actual.get(table)
    ]
    if differences:
        report.add("row counts", False, "; ".join(differences[:10]))
    else:
        report.add(
            "row counts",
            True,
            f"{len(expected)} tables, {sum(expected.values())} rows, the same in every table",
        )


def _check_documents(report: DrillReport, archive: Path, expected: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="entraide-drill-", dir=archive.parent) as scratch:
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(scratch, filter="data")
        except (OSError, tarfile.TarError) as error:
            report.add("documents", False, f"cannot extract {archive.name}: {error}")
            return
        root = Path(scratch)
        restored = {
            path.relative_to(root).as_posix(): _sha256_file(path)
            for path in root.rglob("*")
            if path.is_file()
        }
    missing = sorted(set(expected) - set(restored))
    extra = sorted(set(restored) - set(expected))
    changed = sorted(name for name, sha in expected.items() if restored.get(name, sha) != sha)
    if missing or extra or changed:
        report.add(
            "documents",
            False,
            f"{len(missing)} missing, {len(extra)} unexpected, {len(changed)} different "
            f"(first: {(missing + extra + changed)[0]})",
        )
    else:
        report.add("documents", True, f"{len(expected)} files restored, SHA-256 identical")


@contextmanager
def _database_alias(name: str) -> Iterator[str]:
    """A Django connection to another database of the same engine (``name``), for the audit
    check to run the application's own code against the restored copy."""
    alias = f"restore_drill_{secrets.token_hex(4)}"
    settings_dict = {**connections[DEFAULT_DB_ALIAS].settings_dict, "NAME": name}
    # A connection of this thread only, never added to the settings (DATABASES is unchanged).
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    connections[alias] = wrapper
    try:
        yield alias
    finally:
        wrapper.close()
        del connections[alias]


@contextmanager
def _restored_sqlite(database_file: Path) -> Iterator[tuple[str, dict[str, int]]]:
    with tempfile.TemporaryDirectory(prefix="entraide-drill-", dir=database_file.parent) as tmp:
        scratch = Path(tmp) / "restored.sqlite3"
        for leftover in (scratch, scratch.with_name(scratch.name + "-wal")):
            leftover.unlink(missing_ok=True)  # a wiped target, as on a real restore
        try:
            source = sqlite3.connect(f"file:{database_file}?mode=ro", uri=True)
            target = sqlite3.connect(scratch)
            try:
                source.backup(target)
                counts = _sqlite_counts(target)
            finally:
                target.close()
                source.close()
        except sqlite3.Error as error:
            raise BackupError(f"SQLite could not restore {database_file.name}: {error}") from error
        with _database_alias(str(scratch)) as alias:
            yield alias, counts


@contextmanager
def _restored_postgresql(dump: Path) -> Iterator[tuple[str, dict[str, int]]]:
    import psycopg
    from psycopg import sql

    pg_restore = _tool("pg_restore")
    live = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
    scratch = f"{live[:40]}_drill_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(**_pg_params(), autocommit=True) as admin:
            # The scratch database speaks the live one's encoding and collation.
            encoding, collate, ctype = admin.execute(  # type: ignore[misc]
                "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
                "WHERE datname = current_database()"
            ).fetchone()
            admin.execute(
                sql.SQL(
                    "CREATE DATABASE {} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}"
                ).format(
                    sql.Identifier(scratch),
                    sql.Literal(encoding),
                    sql.Literal(collate),
                    sql.Literal(ctype),
                )
            )
    except psycopg.Error as error:
        raise BackupError(f"cannot create the scratch database {scratch}: {error}") from error
    try:
        _run(
            [
                pg_restore,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={scratch}",
                str(dump),
            ],
            _pg_environment(scratch),
        )
        try:
            with psycopg.connect(**_pg_params(scratch)) as connection:
                counts = _pg_counts(connection)
        except psycopg.Error as error:
            raise BackupError(f"the restored database cannot be read: {error}") from error
        with _database_alias(scratch) as alias:
            yield alias, counts
    finally:
        with psycopg.connect(**_pg_params(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch))
            )
