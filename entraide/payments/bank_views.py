"""Finance's list of new bank details to verify and of those asked of applicants, the page of
one change (the old and new details in clear, to verify them), the verify / refuse actions, and
the page where it enters the details an applicant sent by other means."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from entraide.applications.forms import BankForm
from entraide.core.errors import DomainError
from entraide.core.forms import add_domain_error
from entraide.funds import selectors as fund_selectors
from entraide.funds.permissions import Capability, capabilities
from entraide.payments import bank_details as services
from entraide.payments import reasons


class EnteredBankDetailsForm(BankForm):
    """The applicant's form, worded for finance, with where the details come from."""

    note = forms.CharField(
        label=gettext_lazy("Where the details come from"),
        max_length=services.NOTE_MAX_LENGTH,
        help_text=gettext_lazy(
            "Who sent them and how (e-mail, letter, phone): the person who verifies them reads it."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["iban"].help_text = gettext_lazy("Spaces are allowed.")
        self.fields["bic"].help_text = gettext_lazy("Found from the IBAN when left empty.")
        self.fields["account_holder"].help_text = gettext_lazy(
            "The name on the account, as the bank writes it."
        )
        # Not the name of the person typing it.
        self.fields["account_holder"].widget.attrs["autocomplete"] = "off"


@login_required
@require_safe
def bank_details_changes(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_PAYMENTS)
    page = Paginator(services.awaiting_verification(fund), settings.BACKOFFICE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    asked = Paginator(services.asked_of_applicants(fund), settings.BACKOFFICE_PAGE_SIZE).get_page(
        request.GET.get("asked_page")
    )
    granted = capabilities(request.user, fund)
    return render(
        request,
        "payments/bank_details_changes.html",
        {
            "fund": fund,
            "capabilities": granted,
            "can_manage": Capability.MANAGE_PAYMENTS in granted,
            "page": page,
            "asked": asked,
        },
    )


def _grouped(iban: str) -> str:
    """The IBAN by groups of four characters, as a bank statement prints it: easier to read
    against a RIB."""
    return " ".join(iban[start : start + 4] for start in range(0, len(iban), 4))


@login_required
@require_safe
def bank_details_change(request: HttpRequest, slug: str, change_id: int) -> HttpResponse:
    """New bank details waiting for verification beside the application's, both in clear, with
    the verify and refuse forms. Each visit is recorded in the audit log."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_PAYMENTS)
    change = services.change_to_show(fund, change_id)
    if change.status != services.Status.SUBMITTED:
        messages.info(
            request,
            _("The new bank details of %(reference)s are not waiting for verification.")
            % {"reference": change.application.reference},
        )
        return redirect("bank_details_changes", slug=fund.slug)
    services.record_bank_details_viewed(actor=request.user, change=change)
    payment = change.failed_payment
    return render(
        request,
        "payments/bank_details_change.html",
        {
            "fund": fund,
            "capabilities": capabilities(request.user, fund),
            "change": change,
            "application": change.application,
            "iban_now": _grouped(change.application.iban),
            "new_iban": _grouped(change.iban),
            "returned_because": reasons.explain(payment.reason_code) if payment else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def bank_details_enter(request: HttpRequest, slug: str, change_id: int) -> HttpResponse:
    """Finance types the new details the applicant (or their partner) sent for a request."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_PAYMENTS)
    change = services.change_of(fund, change_id)
    if change.status != services.Status.REQUESTED and request.method == "GET":
        messages.info(
            request,
            _("New bank details are no longer asked for %(reference)s.")
            % {"reference": change.application.reference},
        )
        return redirect("bank_details_changes", slug=fund.slug)
    form = EnteredBankDetailsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.enter_bank_details(
                actor=request.user,
                change_or_application=change,
                iban=form.cleaned_data["iban"],
                bic=form.cleaned_data["bic"],
                account_holder=form.cleaned_data["account_holder"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "The new bank details of %(reference)s are entered: another person of "
                    "finance verifies them before its grant is paid."
                )
                % {"reference": change.application.reference},
            )
            return redirect("bank_details_changes", slug=fund.slug)
    return render(
        request,
        "payments/bank_details_enter.html",
        {
            "fund": fund,
            "capabilities": capabilities(request.user, fund),
            "change": change,
            "application": change.application,
            "form": form,
        },
    )


@login_required
@require_POST
def bank_details_verify(request: HttpRequest, slug: str, change_id: int) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_PAYMENTS)
    change = services.change_of(fund, change_id)
    try:
        services.verify_bank_details(actor=request.user, change=change)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("The new bank details of %(reference)s are verified: its grant can be paid.")
            % {"reference": change.application.reference},
        )
    return redirect("bank_details_changes", slug=fund.slug)


@login_required
@require_POST
def bank_details_refuse(request: HttpRequest, slug: str, change_id: int) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_PAYMENTS)
    change = services.change_of(fund, change_id)
    try:
        again = services.refuse_bank_details(
            actor=request.user, change=change, note=request.POST.get("note", "")
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        if again is not None:
            message = _(
                "The new bank details of %(reference)s are refused: the applicant is asked again."
            )
        else:
            message = _(
                "The new bank details of %(reference)s are refused: its grant stays payable into "
                "the account it had."
            )
        messages.success(request, message % {"reference": change.application.reference})
    return redirect("bank_details_changes", slug=fund.slug)
