"""The applicant's page for new bank details, in the portal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from entraide.applications import selectors as application_selectors
from entraide.applications.forms import BankForm
from entraide.applications.models import Application
from entraide.core.errors import DomainError
from entraide.core.forms import add_domain_error
from entraide.payments import bank_details as services
from entraide.payments.models import BankDetailsChange


@login_required
@require_http_methods(["GET", "POST"])
def bank_details(request: HttpRequest, reference: str) -> HttpResponse:
    """The account the grant goes to (masked) and the form for new details: applied at once
    before an award, verified by the fund after."""
    application = application_selectors.application_of_applicant(request.user, reference)
    form = BankForm(
        request.POST if request.method == "POST" else None,
        initial={"account_holder": application.account_holder},
    )
    if request.method == "POST" and form.is_valid():
        try:
            change = services.change_bank_details(
                actor=request.user,
                application=application,
                iban=form.cleaned_data["iban"],
                bic=form.cleaned_data["bic"],
                account_holder=form.cleaned_data["account_holder"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if change is None:
                messages.success(request, _("Your new bank details are saved."))
            else:
                messages.success(
                    request,
                    _(
                        "Your new bank details were sent to the fund. It will check them, then "
                        "pay your grant into this account."
                    ),
                )
            return redirect("application_status", reference=application.reference)
    state = services.bank_details_state(application)
    return render(
        request,
        "payments/bank_details.html",
        {
            "application": application,
            "fund": application.fund,
            "state": state,
            "refused": _refusal_to_explain(application, state),
            "form": form,
        },
    )


def _refusal_to_explain(
    application: Application, state: services.BankDetailsState
) -> BankDetailsChange | None:
    """The details the fund refused, whose reason the applicant reads: those behind the
    request open now, or those they offered on their own (nothing asked again then)."""
    if state.requested and state.change is not None:
        return services.refusal_behind(state.change)
    if state.may_change and state.change is None and not state.applies_now:
        return services.last_refusal(application)
    return None
