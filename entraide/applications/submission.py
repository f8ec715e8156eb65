"""What an application carries, and the one validation every channel goes through.

The portal's steps and the partners' API both end in :func:`check_submission`: the same rules
for the personal identifier (the one the fund's rules ask for: the NIR in France), the birth
date, the IBAN, the consent and the answers to the fund's questions, each problem reported with
the path of the field it concerns (``applicant.nir``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from entraide.applications.identity import PersonalIdentifier, identifier_of
from entraide.applications.models import Application
from entraide.core.errors import ValidationFailed
from entraide.rules.declared import AnswersInvalid, clean_answers
from entraide.rules.document import RuleDocument

# Facts of a rule document that the application asks in its own steps, not among the answers.
ASKED_IN_OWN_STEPS = frozenset({"profession", "birth_date"})

# Where each field of SubmissionData sits in the API's nested body (and the portal's steps).
FIELD_PATHS = {
    "nir": "applicant.nir",
    "first_name": "applicant.first_name",
    "last_name": "applicant.last_name",
    "birth_date": "applicant.birth_date",
    "email": "applicant.email",
    "phone": "applicant.phone",
    "language": "applicant.language",
    "address_line": "address.line",
    "postcode": "address.postcode",
    "city": "address.city",
    "country": "address.country",
    "profession": "profession",
    "iban": "bank.iban",
    "bic": "bank.bic",
    "account_holder": "bank.holder",
    "consent": "consent",
}


@dataclass(frozen=True)
class SubmissionData:
    nir: str
    first_name: str
    last_name: str
    birth_date: dt.date
    email: str
    profession: str
    iban: str
    account_holder: str
    consent: bool
    declared: dict[str, Any] = field(default_factory=dict)
    phone: str = ""
    address_line: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""  # none named: the country of the identifier the fund asks for
    bic: str = ""
    language: str = "fr"


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    code: str = "invalid"


class SubmissionInvalid(ValidationFailed):
    """Every problem of a submission at once, each with the path of its field."""

    code = "submission_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        super().__init__(first.message, field=first.path.rsplit(".", 1)[-1])


def normalise_iban(raw: str) -> str:
    try:
        return str(IBAN(raw).compact)
    except SchwiftyException as exc:
        raise ValidationFailed(
            _("This IBAN is not valid: check the country code, the length and the key."),
            field="iban",
        ) from exc


def normalise_bic(raw: str) -> str:
    if not raw.strip():
        return ""
    try:
        return str(BIC(raw).compact)
    except SchwiftyException as exc:
        raise ValidationFailed(
            _("This BIC is not valid: it has 8 or 11 letters and digits."), field="bic"
        ) from exc


def bic_of(iban: str) -> str:
    """The bank's BIC when schwifty's registry knows it from the IBAN, else empty."""
    try:
        bic = IBAN(iban).bic
    except SchwiftyException:
        return ""
    return str(bic.compact) if bic is not None else ""


def _required(value: str, name: str) -> Problem | None:
    if value.strip():
        return None
    return Problem(FIELD_PATHS[name], str(_("This field is required.")), "required")


def check_submission(data: SubmissionData, document: RuleDocument | None) -> SubmissionData:
    """The submission normalised (identifier and IBAN compact, the BIC found from the IBAN when
    left empty, names trimmed, answers typed), or :class:`SubmissionInvalid` listing every
    problem. The ``document`` says which identifier the fund asks for."""
    problems: list[Problem] = []
    cleaned: dict[str, Any] = {}

    def attempt(name: str, check: Any, *args: Any) -> None:
        try:
            cleaned[name] = check(*args)
        except ValidationFailed as error:
            problems.append(Problem(FIELD_PATHS[name], str(error.message)))

    for name in ("first_name", "last_name", "account_holder", "email"):
        problem = _required(getattr(data, name), name)
        if problem:
            problems.append(problem)
        else:
            cleaned[name] = " ".join(getattr(data, name).split())
    if "email" in cleaned:
        # In lower case, as every mail service reads it: the same address typed twice is one.
        cleaned["email"] = cleaned["email"].lower()
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            problems.append(Problem(FIELD_PATHS["email"], str(_("Enter a valid e-mail address."))))
    identifier = identifier_of(document)
    attempt("nir", identifier.normalise, data.nir)
    if "nir" in cleaned:
        attempt("birth_date", _birth_date_of, identifier, cleaned["nir"], data.birth_date)
    attempt("iban", normalise_iban, data.iban)
    attempt("bic", normalise_bic, data.bic)
    if cleaned.get("iban") and cleaned.get("bic") == "":
        # Left empty, the BIC is the one the IBAN's bank is registered with (when known).
        cleaned["bic"] = bic_of(cleaned["iban"])
    if data.profession not in Application.Profession.values:
        problems.append(
            Problem(FIELD_PATHS["profession"], str(_("Choose one of the professions offered.")))
        )
    if data.consent is not True:
        problems.append(
            Problem(
                FIELD_PATHS["consent"],
                str(_("Please confirm that what you declare is accurate.")),
                "consent_required",
            )
        )
    if data.language not in ("fr", "en"):
        cleaned["language"] = "fr"
    declared = _checked_answers(data.declared, document, problems)
    if problems:
        raise SubmissionInvalid(problems)
    return dataclasses.replace(
        data,
        **cleaned,
        declared=declared,
        phone=data.phone.strip(),
        address_line=" ".join(data.address_line.split()),
        postcode=data.postcode.strip(),
        city=data.city.strip(),
        country=(data.country.strip() or identifier.country).upper(),
    )


def _birth_date_of(identifier: PersonalIdentifier, value: str, birth_date: dt.date) -> dt.date:
    identifier.check_birth_date(value, birth_date)
    return birth_date


def _checked_answers(
    raw: dict[str, Any], document: RuleDocument | None, problems: list[Problem]
) -> dict[str, Any]:
    if document is None:
        # A fund without rules in force asks no questions.
        problems.extend(
            Problem(f"declared.{key}", str(_("This question is not asked by the fund.")))
            for key in raw
        )
        return {}
    try:
        return clean_answers(document, raw, skip=ASKED_IN_OWN_STEPS)
    except AnswersInvalid as error:
        problems.extend(Problem(f"declared.{key}", message) for key, message in error.problems)
        return {}
