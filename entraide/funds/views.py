"""Back office: the staff's list of funds, and creating a fund."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.forms import add_domain_error
from entraide.funds import selectors, services
from entraide.funds.forms import FundForm
from entraide.funds.permissions import can_create_funds, is_back_office_user


@login_required
@require_safe
def staff_home(request: HttpRequest) -> HttpResponse:
    if not is_back_office_user(request.user):
        raise PermissionDenied()
    return render(
        request,
        "funds/staff_home.html",
        {
            "funds": selectors.funds_for_staff(request.user),
            "can_create": can_create_funds(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def fund_create(request: HttpRequest) -> HttpResponse:
    if not can_create_funds(request.user):
        raise PermissionDenied()
    form = FundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            fund = services.create_fund(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("fund_dashboard", slug=fund.slug)
    return render(request, "funds/fund_form.html", {"form": form})
