"""A stored evaluation as people read it: criterion by criterion, in their language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import format_decimal
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from entraide.core.dates import format_day
from entraide.core.money import current_locale
from entraide.rules.models import ApplicationEvaluation


@dataclass(frozen=True)
class CriterionRow:
    id: str
    label: str
    passed: bool
    value: str
    explanation: str


def _in_language(texts: Any, language: str, fallback: str) -> str:
    if isinstance(texts, dict):
        return str(texts.get(language) or texts.get("fr") or fallback)
    return fallback


def display_value(value: Any) -> str:
    """A measured value as stored (JSON) in the words and number format of the page."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return ", ".join(f"{name} = {display_value(item)}" for name, item in value.items())
    if isinstance(value, int | float):
        return format_decimal(value, locale=current_locale())
    if isinstance(value, str):
        try:
            return format_day(dt.date.fromisoformat(value))
        except ValueError:
            pass
        try:
            return format_decimal(Decimal(value), locale=current_locale())
        except InvalidOperation:
            return value
    return str(value)


def criteria_rows(
    evaluation: ApplicationEvaluation, language: str | None = None
) -> list[CriterionRow]:
    """Each criterion of the stored result, with its label and explanation in ``language``
    (the active one by default); both languages are stored, so nothing is evaluated again."""
    language = (language or get_language() or "fr")[:2]
    rows = []
    for item in evaluation.result.get("criteria", []):
        rows.append(
            CriterionRow(
                id=item["id"],
                label=_in_language(item.get("label"), language, item["id"]),
                passed=bool(item["passed"]),
                value=display_value(item.get("value")),
                explanation=_in_language(
                    item.get("explanations"), language, item.get("explanation", "")
                ),
            )
        )
    return rows
