"""What an applicant answers for a rule document: its facts, and the evidence aggregates it
asks (``ask``) in place of records the fund does not have yet.

One validation path for every entry point: :func:`clean_answers` checks the answers (the API
calls it directly; a page's form builds its fields with :func:`answer_fields` and calls
:func:`clean_form_answers` in ``clean()``), and :func:`evaluate_answers` evaluates them (the
eligibility self-check, an application's declared facts).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.numbers import format_decimal
from django import forms
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from entraide.core.errors import ValidationFailed
from entraide.core.forms import DateInput
from entraide.core.money import current_locale
from entraide.rules.document import Aggregate, Choice, RuleDocument, Text
from entraide.rules.engine import Evaluation, evaluate_values, facts_from
from entraide.rules.expressions import names_in, number_problem

TEXT_MAX_LENGTH = 1000
CENT = Decimal("0.01")
LARGEST = Decimal(10) ** 14
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
YES_WORDS = frozenset({"true", "1", "yes", "oui"})
NO_WORDS = frozenset({"false", "0", "no", "non"})
# Babel's territories are ISO 3166-1 alpha-2 codes plus a few that are not countries one lives
# in: reserved codes (AC, CP, DG, EA, IC, TA), groupings (EU, EZ, UN, QO), pseudo-locales and
# the unknown region. Kosovo (XK) stays: it is what administrations use.
NOT_COUNTRIES = frozenset(
    {"AC", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)
COUNTRY_CODES = frozenset(
    code
    for code in Locale("en").territories
    if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
)


@dataclass(frozen=True)
class Question:
    """One thing the applicant answers: a fact, or an asked aggregate (``aggregate``)."""

    id: str
    type: str
    label: Text
    help: Text | None
    required: bool
    min: Decimal | None
    max: Decimal | None
    choices: tuple[Choice, ...]
    aggregate: bool


def _reading_order(document: RuleDocument) -> list[Aggregate]:
    """The aggregates in the order the criteria first read them, then those no test reads.

    Not the order of ``evidence``: it is a mapping, whose order a stored document does not
    keep (JSON columns sort keys), whereas criteria are a list."""
    order: dict[str, int] = {}
    for criterion in document.criteria:
        read = [
            (match.start(), name)
            for name in names_in(criterion.test)
            if (match := re.search(rf"\b{name}\b", criterion.source))
        ]
        for _position, name in sorted(read):
            order.setdefault(name, len(order))
    unread = len(order)
    return sorted(document.evidence, key=lambda aggregate: order.get(aggregate.id, unread))


def questions(document: RuleDocument, *, skip: frozenset[str] = frozenset()) -> list[Question]:
    """The facts in document order, then the asked aggregates in the order the criteria read
    them; ids in ``skip`` left out (a page that asks some facts in steps of its own)."""
    asked = [
        Question(
            id=fact.id,
            type=fact.type,
            label=fact.label,
            help=fact.help,
            required=fact.required,
            min=fact.min,
            max=fact.max,
            choices=fact.choices,
            aggregate=False,
        )
        for fact in document.facts
        if fact.id not in skip
    ]
    for aggregate in _reading_order(document):
        if aggregate.ask is None or aggregate.id in skip:
            continue
        asked.append(
            Question(
                id=aggregate.id,
                type=aggregate.ask.type,
                label=aggregate.ask.label,
                help=aggregate.ask.help,
                # the records an answer stands in for always give a number
                required=True,
                min=None if aggregate.ask.type == "boolean" else Decimal(0),
                max=None,
                choices=(),
                aggregate=True,
            )
        )
    return asked


class AnswersInvalid(ValidationFailed):
    """Every problem of the answers at once, each as (question id, translated message)."""

    default_message = _("Some answers are missing or invalid.")

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__()
        self.problems = problems


class _Refused(ValueError):
    pass


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _bound(value: Decimal) -> str:
    return format_decimal(value, locale=current_locale())


def _number(question: Question, raw: Any) -> int | str:
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal | str):
        raise _Refused(gettext("Enter a number."))
    try:
        value = Decimal(raw.strip()) if isinstance(raw, str) else Decimal(str(raw))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise _Refused(gettext("Enter a number."))
    # What the rules hold exactly (the batch engine's DECIMAL(18,4)); the size is checked first
    # so that rounding a huge number to the cent cannot fail.
    too_precise = gettext(
        "Enter a number with at most 14 digits before the decimal point and 4 after."
    )
    if value.copy_abs() >= LARGEST:  # copy_abs: no context, so no overflow on 1e999999999
        raise _Refused(too_precise)
    if question.type == "count" and value != value.to_integral_value():
        raise _Refused(gettext("Enter a whole number."))
    if question.type == "money" and value != value.quantize(CENT):
        raise _Refused(gettext("Enter an amount with at most 2 decimal places."))
    if number_problem(value):
        raise _Refused(too_precise)
    if question.min is not None and value < question.min:
        raise _Refused(
            gettext("Enter a number of at least %(min)s.") % {"min": _bound(question.min)}
        )
    if question.max is not None and value > question.max:
        raise _Refused(
            gettext("Enter a number of at most %(max)s.") % {"max": _bound(question.max)}
        )
    if question.type == "count":
        return int(value)
    if question.type == "money":
        return format(value.quantize(CENT), "f")
    return format(value, "f")


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower() if isinstance(raw, str | int) else ""
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise _Refused(gettext("Answer yes or no."))


def _date(raw: Any) -> str:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw.isoformat()
    if isinstance(raw, str) and ISO_DATE.match(raw.strip()):
        try:
            return dt.date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            pass
    raise _Refused(gettext("Enter a date as YYYY-MM-DD."))


def _clean(question: Question, raw: Any) -> Any:
    kind = question.type
    if kind in ("number", "money", "count"):
        return _number(question, raw)
    if kind == "boolean":
        return _boolean(raw)
    if kind == "date":
        return _date(raw)
    if not isinstance(raw, str):
        raise _Refused(gettext("Enter a text."))
    text = raw.strip()
    if kind == "choice":
        if text not in {choice.value for choice in question.choices}:
            raise _Refused(gettext("Choose one of the answers offered."))
        return text
    if kind == "country":
        if text.upper() not in COUNTRY_CODES:
            raise _Refused(gettext("Choose a country from the list."))
        return text.upper()
    if len(text) > TEXT_MAX_LENGTH:
        raise _Refused(gettext("Write at most %(count)s characters.") % {"count": TEXT_MAX_LENGTH})
    return text


def clean_answers(
    document: RuleDocument,
    raw: Mapping[str, Any],
    *,
    skip: frozenset[str] = frozenset(),
    partial: bool = False,
) -> dict[str, Any]:
    """The answers checked against the questions and made ready for a JSONField: money and
    number as decimal text, count as int, boolean as bool, date as ISO text, choice, country
    and text as text. Unanswered questions are left out; they are required unless ``partial``
    (a draft). Raises :class:`AnswersInvalid` with every problem."""
    asked = questions(document, skip=skip)
    answers: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for question in asked:
        value = raw.get(question.id)
        if _blank(value):
            if question.required and not partial:
                problems.append((question.id, gettext("Answer this question.")))
            continue
        try:
            answers[question.id] = _clean(question, value)
        except _Refused as refused:
            problems.append((question.id, str(refused)))
    known = {question.id for question in asked}
    problems.extend(
        (key, gettext("This question is not asked by the fund.")) for key in raw if key not in known
    )
    if problems:
        raise AnswersInvalid(problems)
    return answers


# -- forms -------------------------------------------------------------------------------------


class YesNoField(forms.TypedChoiceField):
    """Yes or no as two radio buttons; ``True``/``False`` initial values show as checked."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=[("yes", gettext("Yes")), ("no", gettext("No"))],
            coerce=lambda value: value == "yes",
            empty_value=None,
            widget=forms.RadioSelect,
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return value


def _sort_key(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


@lru_cache(maxsize=8)
def country_choices(language: str) -> tuple[tuple[str, str], ...]:
    """Every country, named in ``language`` and in its alphabetical order."""
    names = Locale.parse(translation.to_locale(language)).territories
    return tuple(
        sorted(
            ((code, str(names[code])) for code in COUNTRY_CODES if code in names),
            key=lambda choice: _sort_key(choice[1]),
        )
    )


def _field(question: Question, language: str) -> forms.Field:
    # Fields only parse what was typed (a number, a date, one of the options): whether an
    # answer is required and within bounds is for clean_answers, the one place that decides.
    kind = question.type
    bounds = {
        key: format(value, "f")
        for key, value in (("min", question.min), ("max", question.max))
        if value is not None
    }
    if kind == "count":
        return forms.IntegerField(
            required=False, widget=forms.NumberInput(attrs={**bounds, "step": "1"})
        )
    if kind in ("number", "money"):
        step = "0.01" if kind == "money" else "any"
        return forms.DecimalField(
            required=False, widget=forms.NumberInput(attrs={**bounds, "step": step})
        )
    if kind == "date":
        return forms.DateField(required=False, widget=DateInput())
    if kind == "boolean":
        return YesNoField(required=False)
    if kind == "choice":
        return forms.ChoiceField(
            required=False,
            choices=[(choice.value, choice.label.get(language)) for choice in question.choices],
            widget=forms.RadioSelect,
        )
    if kind == "country":
        return forms.ChoiceField(
            required=False,
            choices=[("", gettext("Choose a country")), *country_choices(language)],
        )
    return forms.CharField(
        required=False, widget=forms.TextInput(attrs={"maxlength": str(TEXT_MAX_LENGTH)})
    )


def answer_fields(
    document: RuleDocument,
    language: str,
    *,
    skip: frozenset[str] = frozenset(),
    partial: bool = False,
) -> dict[str, forms.Field]:
    """A form field per question, named by its id, labelled in ``language``. A form that uses
    them calls :func:`clean_form_answers` in its ``clean()``."""
    fields: dict[str, forms.Field] = {}
    with translation.override(language):
        for question in questions(document, skip=skip):
            field = _field(question, language)
            label = question.label.get(language)
            if not question.required:
                label = gettext("%(label)s (optional)") % {"label": label}
            field.label = label
            field.help_text = question.help.get(language) if question.help else ""
            if question.required and not partial:
                field.widget.attrs["required"] = True
            fields[question.id] = field
    return fields


def clean_form_answers(
    form: forms.BaseForm,
    document: RuleDocument,
    *,
    skip: frozenset[str] = frozenset(),
    partial: bool = False,
) -> dict[str, Any] | None:
    """For a form's ``clean()``: :func:`clean_answers` on the fields of :func:`answer_fields`,
    each problem shown on its field. The clean answers, or ``None`` when one is wrong."""
    names = [q.id for q in questions(document, skip=skip) if q.id in form.fields]
    raw = {name: form.cleaned_data.get(name) for name in names if name not in form.errors}
    try:
        answers = clean_answers(document, raw, skip=skip, partial=partial)
    except AnswersInvalid as invalid:
        for question_id, message in invalid.problems:
            if question_id not in form.fields:
                form.add_error(None, message)
            elif question_id not in form.errors:  # a field that could not parse says so already
                form.add_error(question_id, message)
        return None
    return None if any(name in form.errors for name in names) else answers


# -- evaluating --------------------------------------------------------------------------------


def _answered_aggregate(aggregate: Aggregate, answer: Any) -> Decimal | None:
    if aggregate.ask is None or answer is None:
        return None  # not asked, or not answered: unknown, as the three-valued logic reads it
    if isinstance(answer, bool):
        return Decimal(int(answer))
    return Decimal(str(answer))


def evaluate_answers(
    document: RuleDocument, answers: Mapping[str, Any], *, at: dt.date, language: str
) -> Evaluation:
    """Evaluate on ``at`` with the facts and the asked aggregates taken from ``answers`` (as
    :func:`clean_answers` returns them); aggregates not asked are unknown."""
    values: dict[str, Any] = {
        **document.parameters,
        "evaluation_date": at,
        **{a.id: _answered_aggregate(a, answers.get(a.id)) for a in document.evidence},
        **facts_from(document, {"declared": answers}),
    }
    return evaluate_values(document, values, language)
