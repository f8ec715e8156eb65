"""Privacy pages: a fund's notice (public), the applicant's copy of their data and their
erasure request (portal), the retention policy and the erasure requests of a fund, and the
register of processing activities (back office)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from entraide.applications import selectors as application_selectors
from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.forms import add_domain_error
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, funds_with_capability, is_back_office_user
from entraide.privacy import download, notice, register, selectors, services
from entraide.privacy.forms import ConfirmErasureForm, ErasureRequestForm, RetentionPolicyForm
from entraide.privacy.models import ErasureRequest

REGISTER_FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _language() -> str:
    return (get_language() or "fr")[:2]


# -- public ------------------------------------------------------------------------------------


@require_safe
def privacy_notice(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.public_fund(slug)
    return render(
        request,
        "privacy/notice.html",
        {"fund": fund, "notice": notice.notice_of(fund, _language())},
    )


# -- the applicant -----------------------------------------------------------------------------


@login_required
@require_GET
def my_data(request: HttpRequest) -> StreamingHttpResponse:
    """The ZIP of everything the platform holds about the applicant, streamed."""
    copy = download.copy_of(request.user)
    services.record_data_download(
        actor=request.user, applications=copy.application_count, documents=len(copy.files)
    )
    response = StreamingHttpResponse(download.archive_chunks(copy), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{download.archive_name()}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def application_erasure(request: HttpRequest, reference: str) -> HttpResponse:
    """The applicant asks to erase an application of theirs that was not granted."""
    application = application_selectors.application_of_applicant(request.user, reference)
    granted = services.granted(application)
    erased = selectors.erasure_of(application.pk)
    form = ConfirmErasureForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and not granted and erased is None and form.is_valid():
        try:
            erasure = services.request_erasure_from_portal(
                actor=request.user, application=application
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            outcome = erasure.outcome.get(application.reference, {}).get("outcome")
            label = services.Outcome.LABELS.get(outcome or "", "")
            if erasure.status == ErasureRequest.Status.DONE:
                messages.success(
                    request, _("Your data was erased: %(outcome)s.") % {"outcome": label}
                )
            else:
                messages.warning(
                    request,
                    _("Your request is recorded (%(reference)s). %(outcome)s.")
                    % {"reference": erasure.reference, "outcome": label},
                )
            return redirect("my_applications")
    return render(
        request,
        "privacy/application_erasure.html",
        {
            "application": application,
            "fund": application.fund,
            "granted": granted,
            "erased": erased,
            "form": form,
        },
    )


# -- a fund's operator admin -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def retention_policy(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    policy = selectors.policy_of(fund)
    form = RetentionPolicyForm(
        request.POST if request.method == "POST" else None,
        initial={name: getattr(policy, name) for name in services.POLICY_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_retention_policy(actor=request.user, fund=fund, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The retention policy was saved."))
            return redirect("privacy_retention", slug=fund.slug)
    return render(
        request,
        "privacy/retention.html",
        {
            "fund": fund,
            "form": form,
            "policy": policy,
            "paragraphs": notice.retention_paragraphs(policy),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def erasure_requests(request: HttpRequest, slug: str) -> HttpResponse:
    """The fund's erasure requests, and the form to record one received outside the portal."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    form = ErasureRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            erasure = services.record_erasure_request(
                actor=request.user, fund=fund, **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("The request %(reference)s was recorded.") % {"reference": erasure.reference},
            )
            return redirect("privacy_erasure_request", slug=fund.slug, reference=erasure.reference)
    return render(
        request,
        "privacy/erasure_requests.html",
        {"fund": fund, "form": form, "requests": selectors.requests_of(fund)[:200]},
    )


@login_required
@require_safe
def erasure_request(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    erasure = selectors.request_of(fund, reference)
    rows = [
        (
            application_reference,
            services.Outcome.LABELS.get(item.get("outcome", ""), item.get("outcome", "")),
            item.get("hold_until"),
        )
        for application_reference, item in sorted(erasure.outcome.items())
    ]
    return render(
        request,
        "privacy/erasure_request.html",
        {"fund": fund, "erasure": erasure, "rows": rows},
    )


# -- the register of processing activities -----------------------------------------------------


def _managed_funds(request: HttpRequest) -> list[Fund]:
    funds = list(funds_with_capability(request.user, Capability.MANAGE_FUND).order_by("name"))
    if not funds:
        if not is_back_office_user(request.user):
            raise PermissionDenied()
        raise Http404
    return funds


@login_required
@require_safe
def processing_register(request: HttpRequest) -> HttpResponse:
    funds = _managed_funds(request)
    return render(
        request,
        "privacy/register.html",
        {"entries": register.register_of(funds), "formats": sorted(REGISTER_FORMATS)},
    )


@login_required
@require_GET
def processing_register_download(request: HttpRequest, file_format: str) -> HttpResponse:
    if file_format not in REGISTER_FORMATS:
        raise Http404
    funds = _managed_funds(request)
    entries = register.register_of(funds)
    services.record_register_download(actor=request.user, funds=funds, file_format=file_format)
    content = register.as_csv(entries) if file_format == "csv" else register.as_json(entries)
    response = HttpResponse(content, content_type=REGISTER_FORMATS[file_format])
    response["Content-Disposition"] = (
        f'attachment; filename="register-of-processing-activities.{file_format}"'
    )
    return response
