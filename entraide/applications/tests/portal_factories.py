"""Factories and helpers for the portal's tests: the documents a fund asks for, and a complete
application filled in step by step."""

from __future__ import annotations

import datetime as dt
import io
import random
from typing import Any

import factory
from PIL import Image

from entraide.demo.synthetic import make_iban, make_nir
from entraide.funds.models import FundDocumentRequirement
from entraide.funds.tests.factories import FundFactory

BIRTH_DATE = dt.date(1988, 11, 23)
NIR = make_nir(random.Random(42), BIRTH_DATE, 2)
IBAN = make_iban(random.Random(42))


def _png() -> bytes:
    # A real image: uploaded images are decoded and encoded again (the same bytes, for this one).
    output = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(output, "PNG")
    return output.getvalue()


# File contents recognised by their signature, whatever their name says.
PNG = _png()
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


class FundDocumentRequirementFactory(factory.django.DjangoModelFactory[FundDocumentRequirement]):
    class Meta:
        model = FundDocumentRequirement

    fund = factory.SubFactory(FundFactory)
    code = factory.Sequence(lambda n: f"document-{n}")
    label_fr = factory.LazyAttribute(lambda o: f"Justificatif {o.code}")
    label_en = factory.LazyAttribute(lambda o: f"Proof {o.code}")
    help_fr = "Une page suffit."
    help_en = "One page is enough."
    required = True
    position = factory.Sequence(int)


def spaced(text: str, size: int = 4) -> str:
    """As people type it from a card or a bank statement."""
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def step_values(**overrides: Any) -> dict[str, dict[str, str]]:
    """What an applicant types at each step of SIMPLE_RULES' fund, all valid."""
    values = {
        "identity": {
            "nir": spaced(NIR, 5),
            "first_name": "Camille",
            "last_name": "Rivière",
            "birth_date": BIRTH_DATE.isoformat(),
        },
        "contact": {
            "email": "camille@example.org",
            "phone": "+33 6 12 34 56 78",
            "address_line": "12 rue des Studios",
            "postcode": "93200",
            "city": "Saint-Denis",
            "country": "FR",  # the list's choice offered first, as a browser sends it
        },
        "situation": {"profession": "technician", "annual_resources": "13250.50", "days": "14"},
        "bank": {"iban": spaced(IBAN), "bic": "", "account_holder": "Camille Rivière"},
    }
    for step, changes in overrides.items():
        values[step] = {**values[step], **changes}
    return values
