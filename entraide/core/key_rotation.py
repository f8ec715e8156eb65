"""Re-encrypting what older keys wrote, so that they can be removed (``entraide keys rotate``).

Every encrypted column of every model (the fields of :mod:`entraide.core.crypto`) and every file
of the encrypted stores is read, and what the first key of ``ENTRAIDE_ENCRYPTION_KEYS`` did not
write is written again with it. Rows are read and written by primary key in chunks, each chunk
in its own transaction: an interrupted rotation is resumed by running it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction

from entraide.core import crypto

CHUNK = 1_000
TEXT_FIELDS = (crypto.EncryptedTextField, crypto.EncryptedJSONField)


@dataclass
class Rotation:
    checked: int = 0
    rotated: int = 0
    # "table.column" or a directory: what could not be opened with any key.
    unreadable: list[str] = field(default_factory=list)


def encrypted_columns() -> Iterator[tuple[type[models.Model], models.Field]]:
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, (*TEXT_FIELDS, crypto.EncryptedBinaryField)):
                yield model, model_field


def encrypted_directories() -> list[Path]:
    """The folders whose files are all encrypted: the applicants' documents."""
    return [Path(settings.DOCUMENTS_DIR)]


def _rotate_value(value: Any, binary: bool) -> Any:
    """The value written with the first key, or None if it already is."""
    if binary:
        token = bytes(value)
        if crypto.is_current_bytes(token):
            return None
        return crypto.rotate_bytes(token)
    text = str(value)
    return None if crypto.is_current(text) else crypto.rotate_token(text)


def rotate_column(
    model: type[models.Model],
    model_field: models.Field,
    report: Rotation,
    dry_run: bool = False,
) -> None:
    quote = connection.ops.quote_name
    table, column, pk = model._meta.db_table, model_field.column, model._meta.pk.column
    binary = isinstance(model_field, crypto.EncryptedBinaryField)
    last = None
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            after = "" if last is None else f"AND {quote(pk)} > %s "
            cursor.execute(
                f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} "  # noqa: S608
                f"WHERE {quote(column)} IS NOT NULL {after}ORDER BY {quote(pk)} LIMIT {CHUNK}",
                [] if last is None else [last],
            )
            rows = cursor.fetchall()
            for key, value in rows:
                if not binary and value == "":
                    continue
                report.checked += 1
                try:
                    rotated = _rotate_value(value, binary)
                except InvalidToken:
                    report.unreadable.append(f"{table}.{column} #{key}")
                    continue
                if rotated is None:
                    continue
                report.rotated += 1
                if not dry_run:
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {quote(column)} = %s "  # noqa: S608
                        f"WHERE {quote(pk)} = %s",
                        [rotated, key],
                    )
        if len(rows) < CHUNK:
            return
        last = rows[-1][0]


def rotate_directory(directory: Path, report: Rotation, dry_run: bool = False) -> None:
    if not directory.is_dir():
        return
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        report.checked += 1
        token = path.read_bytes()
        try:
            if crypto.is_current_bytes(token):
                continue
            rotated = crypto.rotate_bytes(token)
        except InvalidToken:
            report.unreadable.append(str(path))
            continue
        report.rotated += 1
        if not dry_run:
            # Written beside, then renamed over: a crash leaves the old file whole.
            fresh = path.with_name(f".{path.name}.rotating")
            fresh.write_bytes(rotated)
            fresh.replace(path)


# Encrypted values inside JSON columns of other libraries' models: allauth's authenticators
# keep the TOTP key and the recovery codes' seed encrypted (entraide.accounts.mfa).
ENCRYPTED_JSON_KEYS = {("mfa", "authenticator"): ("data", ("secret", "seed"))}


def rotate_json_keys(report: Rotation, dry_run: bool = False) -> None:
    for (app_label, model_name), (column, keys) in ENCRYPTED_JSON_KEYS.items():
        model = apps.get_model(app_label, model_name)
        for row in model._default_manager.order_by("pk").iterator(chunk_size=CHUNK):
            data = dict(getattr(row, column))
            changed = False
            for key in keys:
                token = data.get(key)
                if not isinstance(token, str) or not token.startswith(crypto.TOKEN_PREFIX):
                    continue
                report.checked += 1
                try:
                    rotated = _rotate_value(token, binary=False)
                except InvalidToken:
                    report.unreadable.append(f"{model._meta.db_table}.{column}.{key} #{row.pk}")
                    continue
                if rotated is not None:
                    data[key], changed = rotated, True
                    report.rotated += 1
            if changed and not dry_run:
                model._default_manager.filter(pk=row.pk).update(**{column: data})


def rotate_all(
    *, dry_run: bool = False, on_step: Callable[[str, Rotation], None] | None = None
) -> Rotation:
    report = Rotation()
    for model, model_field in encrypted_columns():
        rotate_column(model, model_field, report, dry_run)
        if on_step:
            on_step(f"{model._meta.db_table}.{model_field.column}", report)
    rotate_json_keys(report, dry_run)
    if on_step:
        on_step("authenticators", report)
    for directory in encrypted_directories():
        rotate_directory(directory, report, dry_run)
        if on_step:
            on_step(str(directory), report)
    return report
