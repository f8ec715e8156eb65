"""A fund's budget: its ledger, top-ups, and funding the waiting list in order."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from entraide.core.errors import DomainError
from entraide.core.forms import add_domain_error
from entraide.funds import ledger
from entraide.funds import selectors as fund_selectors
from entraide.funds import services as fund_services
from entraide.funds.permissions import Capability, capabilities
from entraide.review import services
from entraide.review.forms import BudgetRulesForm, TopUpForm


@login_required
@require_http_methods(["GET", "POST"])
def fund_budget(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug)
    granted = capabilities(request.user, fund)
    can_manage = Capability.MANAGE_FUND in granted
    form = TopUpForm(request.POST or None)
    if request.method == "POST":
        fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
        if form.is_valid():
            try:
                ledger.credit_budget(
                    actor=request.user,
                    fund=fund,
                    amount=form.cleaned_data["amount"],
                    note=form.cleaned_data["note"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("The budget is credited."))
                return redirect("fund_budget", slug=fund.slug)
    entries = ledger.entries(fund).select_related("recorded_by", "award__application")
    page = Paginator(entries, settings.BACKOFFICE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "review/budget.html",
        {
            "fund": fund,
            "totals": ledger.totals(fund),
            "offer": ledger.waitlist_offer(fund),
            "page": page,
            "form": form if can_manage else None,
            "rules_form": BudgetRulesForm(
                initial={
                    "award_order": fund.award_order,
                    "second_approval_above": fund.second_approval_above,
                }
            )
            if can_manage
            else None,
            "can_manage": can_manage,
        },
    )


@login_required
@require_POST
def fund_waitlist(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    try:
        decisions = services.fund_waitlist(actor=request.user, fund=fund)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(count)s applications of the waiting list are approved.")
            % {"count": len(decisions)},
        )
    return redirect("fund_budget", slug=fund.slug)


@login_required
@require_POST
def budget_rules(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    form = BudgetRulesForm(request.POST)
    if form.is_valid():
        try:
            fund_services.update_budget_rules(
                actor=request.user,
                fund=fund,
                award_order=form.cleaned_data["award_order"],
                second_approval_above=form.cleaned_data["second_approval_above"],
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The budget's rules are saved."))
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
    return redirect(f"{reverse('fund_budget', args=[fund.slug])}#rules")
