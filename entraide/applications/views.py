"""The applicant portal: public fund pages, the application form, the applicant's own pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from entraide.applications import selectors, services
from entraide.applications.forms import ApplicationForm
from entraide.core.errors import DomainError
from entraide.core.forms import add_domain_error
from entraide.funds import selectors as fund_selectors
from entraide.review import selectors as review_selectors


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    funds = fund_selectors.public_funds(timezone.now().date())
    return render(request, "applications/home.html", {"funds": funds})


@require_safe
def fund_page(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.public_fund(slug)
    return render(request, "applications/fund_page.html", {"fund": fund, "is_open": fund.is_open()})


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.public_fund(slug)
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.submit_application(
                actor=request.user, fund=fund, **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return redirect("application_status", reference=application.reference)
    return render(
        request, "applications/apply.html", {"fund": fund, "form": form, "is_open": fund.is_open()}
    )


@login_required
@require_safe
def my_applications(request: HttpRequest) -> HttpResponse:
    applications = selectors.applications_of_applicant(request.user)
    return render(request, "applications/my_applications.html", {"applications": applications})


@login_required
@require_safe
def application_status(request: HttpRequest, reference: str) -> HttpResponse:
    application = selectors.application_of_applicant(request.user, reference)
    decision = review_selectors.decision_for(application.pk)
    return render(
        request,
        "applications/status.html",
        {"application": application, "fund": application.fund, "decision": decision},
    )
