"""Attestations of grants: the applicant's PDF in the portal, the same for the fund's staff,
the fund's wording of them, and the public check of their verification codes.

The applicant's and the staff's downloads answer 404 while the grant is not approved (or the
application is not theirs to see); ``?lang=fr|en`` picks the attestation's language, the
application's by default. The verification page needs no account, and answers a code that
does not exist and a text that cannot be a code alike."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from entraide.applications import selectors as application_selectors
from entraide.applications.models import Application
from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.forms import add_domain_error
from entraide.funds import selectors as fund_selectors
from entraide.funds.permissions import Capability, capabilities
from entraide.reporting import attestations
from entraide.reporting.forms import AttestationSettingsForm, VerificationForm
from entraide.reporting.models import AttestationSettings


def pdf_response(content: bytes, filename: str, *, inline: bool = False) -> HttpResponse:
    response = HttpResponse(
        content,
        content_type="application/pdf",
        headers={"Content-Disposition": content_disposition_header(not inline, filename)},
    )
    # A person's attestation: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _attestation_response(
    request: HttpRequest, application: Application, *, for_staff: bool
) -> HttpResponse:
    language = attestations.language_of(request.GET.get("lang"), application)
    try:
        attestation = attestations.issue_attestation(
            actor=request.user, application=application, language=language, for_staff=for_staff
        )
    except attestations.NoAttestation:
        raise Http404 from None
    return pdf_response(
        attestations.render_attestation(attestation, language),
        f"attestation-{application.reference}.pdf",
    )


@login_required
@require_safe
def application_attestation(request: HttpRequest, reference: str) -> HttpResponse:
    """The applicant's attestation of their grant (their own application only)."""
    application = application_selectors.application_of_applicant(request.user, reference)
    return _attestation_response(request, application, for_staff=False)


@login_required
@require_safe
def staff_application_attestation(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """The same attestation, for the fund's staff to send or print (each download audited)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_APPLICATIONS)
    application = application_selectors.application_for_staff(request.user, fund, reference)
    return _attestation_response(request, application, for_staff=True)


@login_required
@require_http_methods(["GET", "POST"])
def attestation_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """The fund's wording of its attestations and their signatory; a specimen PDF of what is
    typed (not saved) to see it before saving."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    current = attestations.settings_of(fund)
    form = AttestationSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={name: getattr(current, name) for name in attestations.SETTINGS_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            wording = AttestationSettings(fund=fund, **form.cleaned_data)
            language = attestations.language_of(request.POST["preview"])
            return pdf_response(
                attestations.render_specimen(fund, wording, language),
                f"attestation-specimen-{language}.pdf",
                inline=True,
            )
        try:
            attestations.save_attestation_settings(
                actor=request.user, fund=fund, values=form.cleaned_data
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The wording of the attestations is saved."))
            return redirect("attestation_settings", slug=fund.slug)
    context: dict[str, Any] = {
        "fund": fund,
        "capabilities": capabilities(request.user, fund),
        "form": form,
        "attestation_settings": current,
    }
    return render(request, "reporting/settings.html", context)


@require_safe
def attestation_verify(request: HttpRequest) -> HttpResponse:
    """What an attestation's code attests now: valid, superseded, no longer valid, or unknown
    (no such code and no code at all alike). No account needed; nothing but what the
    attestation itself shows."""
    form = VerificationForm(request.GET if "code" in request.GET else None)
    verification = None
    if form.is_valid() and form.cleaned_data["code"]:
        verification = attestations.verify(form.cleaned_data["code"])
    response = render(
        request, "reporting/verify.html", {"form": form, "verification": verification}
    )
    # The code is in the address: kept out of caches, search engines and other sites' logs.
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response
