"""Finance's list of new bank details to verify, and its verify / refuse actions."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from entraide.core.errors import DomainError
from entraide.funds import selectors as fund_selectors
from entraide.funds.permissions import Capability, capabilities
from entraide.payments import bank_details as services


@login_required
@require_safe
def bank_details_changes(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_PAYMENTS)
    page = Paginator(services.awaiting_verification(fund), settings.BACKOFFICE_PAGE_SIZE).get_page(
        request.GET.get("page")
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
            "asked": services.asked_of_applicants(fund).count(),
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
        services.refuse_bank_details(
            actor=request.user, change=change, note=request.POST.get("note", "")
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("The new bank details of %(reference)s are refused: the applicant is asked again.")
            % {"reference": change.application.reference},
        )
    return redirect("bank_details_changes", slug=fund.slug)
