"""The partners of a fund, for its operator admins: their tokens and applications, issuing and
revoking tokens, and the webhook signing secret to pass on to a partner.

A clear token and a signing secret are secrets: they appear only in the body of the one
response to the POST that asked for them, never in a URL, a redirect, a message or the
session, and that response is not to be stored by any cache.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.forms import add_domain_error
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability
from entraide.intake import selectors, services
from entraide.intake.forms import IssueTokenForm
from entraide.intake.models import Partner, PartnerToken

# The forms already answered in this session (submission value → token id), the latest ones.
ISSUED_SESSION_KEY = "intake_issued_tokens"
ISSUED_REMEMBERED = 20


def _fund(request: HttpRequest, slug: str) -> Fund:
    """The fund, for those who manage it (404 for its other staff, 403 for non-staff)."""
    return fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)


def _secret_response(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, template, context)
    add_never_cache_headers(response)  # Cache-Control: no-store (and no-cache, private...)
    return response


@login_required
@require_safe
def partner_list(request: HttpRequest, slug: str) -> HttpResponse:
    fund = _fund(request, slug)
    return render(
        request,
        "intake/partners.html",
        {"fund": fund, "partners": selectors.partners_of_fund(fund)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def token_new(request: HttpRequest, slug: str) -> HttpResponse:
    fund = _fund(request, slug)
    form = IssueTokenForm(
        request.POST if request.method == "POST" else None,
        partners=selectors.all_partners(),
        initial={"partner": request.GET.get("partner", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        earlier = _issued_earlier(request, fund, data["submission"])
        if earlier is not None:
            return render(
                request, "intake/token_already_issued.html", {"fund": fund, "token": earlier}
            )
        partner: Partner | None = data["partner"]
        try:
            if partner is None:
                partner = services.create_partner(
                    actor=request.user,
                    fund=fund,
                    name=data["name"],
                    slug=data["slug"],
                    webhook_url=data["webhook_url"],
                )
                new_secret = partner.webhook_secret
            else:
                new_secret = None
            token, raw_token = services.issue_token(
                actor=request.user, partner=partner, fund=fund, name=data["token_name"]
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            _remember_issued(request, data["submission"], token)
            return _secret_response(
                request,
                "intake/token_issued.html",
                {
                    "fund": fund,
                    "partner": partner,
                    "token": token,
                    "raw_token": raw_token,
                    # A new partner's secret is passed on with its first token, like the token.
                    "webhook_secret": new_secret,
                },
            )
    return render(request, "intake/token_form.html", {"fund": fund, "form": form})


def _issued_earlier(request: HttpRequest, fund: Fund, submission: str) -> PartnerToken | None:
    """The token this very form already issued (a reload of the result page posts it again)."""
    token_id = request.session.get(ISSUED_SESSION_KEY, {}).get(submission) if submission else None
    return selectors.token_of_fund(fund, token_id) if token_id is not None else None


def _remember_issued(request: HttpRequest, submission: str, token: PartnerToken) -> None:
    if not submission:
        return
    issued = dict(request.session.get(ISSUED_SESSION_KEY, {}))
    issued[submission] = token.pk
    request.session[ISSUED_SESSION_KEY] = dict(list(issued.items())[-ISSUED_REMEMBERED:])


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request: HttpRequest, slug: str, token_id: int) -> HttpResponse:
    """A confirmation page; its POST revokes the token."""
    fund = _fund(request, slug)
    token = selectors.token_of_fund(fund, token_id)
    if request.method == "GET":
        return render(request, "intake/token_revoke.html", {"fund": fund, "token": token})
    try:
        services.revoke_token(actor=request.user, token=token)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("The token %(prefix)s… of %(partner)s is revoked: the API refuses it from now on.")
            % {"prefix": token.prefix, "partner": token.partner.name},
        )
    return redirect("intake_partners", slug=fund.slug)


@login_required
@require_POST
def partner_secret(request: HttpRequest, slug: str, partner: str) -> HttpResponse:
    """The partner's webhook signing secret, shown in this response only (and audited)."""
    fund = _fund(request, slug)
    found = selectors.partner_of_fund(fund, partner)
    secret = services.reveal_webhook_secret(actor=request.user, partner=found, fund=fund)
    return _secret_response(
        request,
        "intake/partner_secret.html",
        {"fund": fund, "partner": found, "webhook_secret": secret},
    )
