"""Template tags of the payments in the applicant portal's pages."""

from __future__ import annotations

from django import template

from entraide.applications.models import Application
from entraide.payments import bank_details

register = template.Library()


@register.simple_tag
def bank_details_state(application: Application) -> bank_details.BankDetailsState:
    """Whether the applicant may give new bank details, or is asked for them (the status page
    links to the bank details page then)."""
    return bank_details.bank_details_state(application)
