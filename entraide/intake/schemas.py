"""The shapes of the intake API, as the OpenAPI document shows them.

The request schemas only check shapes and sizes; what a value means (the personal identifier
the fund asks for, the IBAN, the answers to the fund's questions) is checked by the same code as
the portal's, in ``applications.submission``, so that both channels accept and refuse the same
applications.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from entraide.applications.identity import MAX_TYPED_LENGTH
from entraide.applications.submission import SubmissionData


def _without_nul(value: Any) -> Any:
    """Refuse the NUL character anywhere in a value: PostgreSQL cannot store it in text."""
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul_character", "NUL character")
    if isinstance(value, dict):
        for key, item in value.items():
            _without_nul(key)
            _without_nul(item)
    elif isinstance(value, list):
        for item in value:
            _without_nul(item)
    return value


_ISO_8601_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_8601_text(value: Any) -> Any:
    """An instant is written in ISO 8601 (``2020-04-20T09:00:00Z``), as documented: pydantic
    alone would also read a number (``0.5``) as seconds since 1970."""
    if isinstance(value, str) and not _ISO_8601_DATE.match(value):
        raise PydanticCustomError("datetime_parsing", "Not an ISO 8601 date and time")
    return value


# A query parameter's instant: only ISO 8601 text.
IsoInstant = Annotated[dt.datetime, BeforeValidator(_iso_8601_text)]


class Strict(Schema):
    # A misspelt field is an error, not a silently missing answer.
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_character(cls, value: Any) -> Any:
        return _without_nul(value)


class ApplicantIn(Strict):
    nir: str = Field(
        max_length=MAX_TYPED_LENGTH,
        description=(
            "The personal identifier the fund asks for (GET /v1/funds/{slug}: `identifier`): "
            "in France the social security number (NIR, 15 characters including the key); "
            "codice fiscale, DNI or NIE, National Insurance number for the funds that ask for "
            "them. Spaces are allowed; an error is reported on `applicant.nir` whatever the kind."
        ),
        examples=["1 85 04 75 116 042 02", "RCCMNL83S18D969H", "AB 12 34 56 C"],
    )
    first_name: str = Field(max_length=100, examples=["Camille"])
    last_name: str = Field(max_length=100, examples=["Martin"])
    birth_date: dt.date = Field(examples=["1985-04-12"])
    email: str = Field(max_length=254, examples=["camille.martin@example.org"])
    phone: str = Field(default="", max_length=32, examples=["+33 6 12 34 56 78"])
    language: str = Field(
        default="fr",
        pattern="^(fr|en)$",
        description="Language of the applicant's e-mails and status pages.",
    )


class AddressIn(Strict):
    line: str = Field(default="", max_length=200, examples=["12 rue de la Roquette"])
    postcode: str = Field(default="", max_length=16, examples=["75011"])
    city: str = Field(default="", max_length=100, examples=["Paris"])
    country: str | None = Field(
        default=None,
        pattern="^[A-Za-z]{2}$",
        description=(
            "ISO 3166-1 alpha-2. Left out: the country of the identifier the fund asks for "
            "(`identifier`: FR for the NIR, IT, ES, GB)."
        ),
    )


class BankIn(Strict):
    iban: str = Field(max_length=50, examples=["FR76 3000 6000 0112 3456 7890 189"])
    bic: str = Field(default="", max_length=11, description="Optional (8 or 11 characters).")
    holder: str = Field(max_length=140, examples=["Camille Martin"])


class ApplicationIn(Strict):
    applicant: ApplicantIn
    address: AddressIn = Field(default_factory=AddressIn)
    profession: str = Field(max_length=20, examples=["technician"])
    declared: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Answers to the fund's questions, by question id (GET /v1/funds/{slug} lists them): "
            "money and numbers as strings or numbers, counts as integers, booleans, dates as "
            "YYYY-MM-DD."
        ),
        examples=[{"annual_resources": "12000.00", "days_sep_feb": 14}],
    )
    bank: BankIn
    consent: bool = Field(
        description="The applicant confirmed that what they declare is accurate and accepted "
        "that the fund checks it."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "applicant": {
                    "nir": "1 85 04 75 116 042 02",
                    "first_name": "Camille",
                    "last_name": "Martin",
                    "birth_date": "1985-04-12",
                    "email": "camille.martin@example.org",
                    "phone": "+33 6 12 34 56 78",
                    "language": "fr",
                },
                "address": {
                    "line": "12 rue de la Roquette",
                    "postcode": "75011",
                    "city": "Paris",
                    "country": "FR",
                },
                "profession": "technician",
                "declared": {"annual_resources": "12000.00", "days_sep_feb": 14},
                "bank": {
                    "iban": "FR76 3000 6000 0112 3456 7890 189",
                    "bic": "",
                    "holder": "Camille Martin",
                },
                "consent": True,
            }
        },
    )

    def to_submission(self) -> SubmissionData:
        applicant, address, bank = self.applicant, self.address, self.bank
        return SubmissionData(
            nir=applicant.nir,
            first_name=applicant.first_name,
            last_name=applicant.last_name,
            birth_date=applicant.birth_date,
            email=applicant.email,
            phone=applicant.phone,
            language=applicant.language,
            address_line=address.line,
            postcode=address.postcode,
            city=address.city,
            country=address.country or "",
            profession=self.profession,
            declared=dict(self.declared),
            iban=bank.iban,
            bic=bank.bic,
            account_holder=bank.holder,
            consent=self.consent,
        )


class Links(Schema):
    self: str


class SubmissionOut(Schema):
    reference: str = Field(examples=["A-7K3M-9Q2F"])
    status: str = Field(examples=["received"])
    status_label: str = Field(
        examples=["Received"], description="In the language of the Accept-Language header."
    )
    submitted_at: dt.datetime
    status_changed_at: dt.datetime
    fund: str = Field(description="The fund's short name.")
    links: Links


class PageLinks(Schema):
    next: str | None


class SubmissionPage(Schema):
    items: list[SubmissionOut]
    next_cursor: str | None = Field(
        description="Where the next page starts: pass it as `cursor`. Keep the last one to "
        "poll later: applications whose status changed since then come after it."
    )
    has_more: bool = Field(description="Whether the next page may already have items.")
    links: PageLinks


class Bilingual(Schema):
    fr: str
    en: str


class ChoiceOut(Schema):
    value: str
    label: Bilingual


class QuestionOut(Schema):
    id: str
    type: str = Field(description="number, money, count, date, boolean, choice, country or text")
    label: Bilingual
    help: Bilingual | None
    required: bool
    min: str | None = Field(description="Decimal, as text.")
    max: str | None = Field(description="Decimal, as text.")
    choices: list[ChoiceOut]


class ProfessionOut(Schema):
    value: str
    label: str


class WindowOut(Schema):
    opens_at: dt.datetime
    closes_at: dt.datetime
    time_zone: str
    is_open: bool


class IdentifierOut(Schema):
    id: str = Field(description="fr-nir, it-codice-fiscale, es-dni-nie or gb-nino")
    label: Bilingual
    help: Bilingual


class FundOut(Schema):
    slug: str
    name: str
    currency: str
    identifier: IdentifierOut = Field(
        description="The personal identifier that `applicant.nir` holds for this fund."
    )
    window: WindowOut
    rules_version: int | None = Field(
        description="Version of the rules in force today (null: none published yet)."
    )
    professions: list[ProfessionOut]
    questions: list[QuestionOut] = Field(
        description="What `declared` must answer, besides the applicant's identity."
    )


class ProblemError(Schema):
    path: str = Field(examples=["bank.iban"])
    message: str
    code: str = Field(examples=["invalid"])


class Problem(Schema):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str = Field(examples=["https://entraide.example/problems/validation_failed"])
    title: str
    status: int
    detail: str
    code: str = Field(examples=["validation_failed"])
    errors: list[ProblemError] = Field(default_factory=list)
