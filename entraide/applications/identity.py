"""The French social security number (NIR): validated with python-stdnum, checked against the
birth date it encodes."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir as stdnum_nir

from entraide.core.errors import ValidationFailed


def normalise_nir(raw: str) -> str:
    """The NIR without spaces or dots, upper case (for 2A/2B), checked with its key."""
    try:
        return str(stdnum_nir.validate(raw)).upper()
    except StdnumError as exc:
        raise ValidationFailed(
            _("This social security number is not valid: check the 15 characters and the key."),
            field="nir",
        ) from exc


def check_birth_date_matches(nir: str, birth_date: dt.date) -> None:
    """Characters 2-3 of the NIR are the year of birth, 4-5 the month (20 and above: unknown)."""
    year, month = int(nir[1:3]), int(nir[3:5])
    if year != birth_date.year % 100 or (month <= 12 and month != birth_date.month):
        raise ValidationFailed(
            _("The date of birth does not match the social security number."), field="birth_date"
        )
