"""Migration steps that encrypt the values written in clear before encryption at rest.

They read and write the columns with plain SQL: the historical models' encrypted fields
would try to decrypt the clear values. A value that already decrypts is left as it is, so a
step run twice changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.fernet import InvalidToken
from django.db import migrations

from entraide.core import crypto


def _is_token(value: str) -> bool:
    try:
        crypto.decrypt_text(value)
    except (InvalidToken, ValueError, UnicodeEncodeError):
        return False
    return True


def _rows(schema_editor: Any, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('id')}, {', '.join(quote(c) for c in columns)} "  # noqa: S608
            f"FROM {quote(table)}"
        )
        return list(cursor.fetchall())


def _update(schema_editor: Any, table: str, pk: Any, values: Mapping[str, Any]) -> None:
    quote = schema_editor.quote_name
    assignments = ", ".join(f"{quote(column)} = %s" for column in values)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(table)} SET {assignments} WHERE {quote('id')} = %s",  # noqa: S608
            [*values.values(), pk],
        )


def encrypt_columns(
    app_label: str,
    model_name: str,
    *,
    text: Sequence[str] = (),
    json_columns: Sequence[str] = (),
    binary: Sequence[str] = (),
    indexes: Mapping[str, tuple[str, str]] | None = None,
) -> migrations.RunPython:
    """Encrypt the ``text``, ``json_columns`` and ``binary`` columns of a model's rows, and fill
    ``indexes`` (``{index column: (kind, clear column)}``) from the clear values."""
    indexes = dict(indexes or {})

    def forward(apps: Any, schema_editor: Any) -> None:
        table = apps.get_model(app_label, model_name)._meta.db_table
        sources = [source for _, source in indexes.values()]
        columns = list(dict.fromkeys([*text, *json_columns, *binary, *sources]))
        for row in _rows(schema_editor, table, columns):
            pk, values = row[0], dict(zip(columns, row[1:], strict=True))
            changed: dict[str, Any] = {}
            for column, (kind, source) in indexes.items():
                clear = values[source]
                if clear and _is_token(clear):
                    clear = crypto.decrypt_text(clear)
                changed[column] = crypto.blind_index(kind, clear)
            for column in text:
                if values[column] and not _is_token(values[column]):
                    changed[column] = crypto.encrypt_text(values[column])
            for column in json_columns:
                value = values[column]
                if value is not None and not _is_token(value):
                    parsed = json.loads(value) if isinstance(value, str) else value
                    changed[column] = crypto.encrypt_text(json.dumps(parsed))
            for column in binary:
                value = values[column]
                if value is not None:
                    data = bytes(value)
                    try:
                        crypto.decrypt_bytes(data)
                    except InvalidToken:
                        changed[column] = crypto.encrypt_bytes(data)
            if changed:
                _update(schema_editor, table, pk, changed)

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)


def index_column(
    app_label: str, model_name: str, *, column: str, kind: str
) -> migrations.RunPython:
    """Replace each clear value of ``column`` by its blind index (evidence keeps no NIR)."""

    def forward(apps: Any, schema_editor: Any) -> None:
        table = apps.get_model(app_label, model_name)._meta.db_table
        for pk, value in _rows(schema_editor, table, [column]):
            if value and len(value) != crypto.INDEX_LENGTH:
                _update(schema_editor, table, pk, {column: crypto.blind_index(kind, value)})

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)
