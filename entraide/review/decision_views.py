"""Four eyes: the second approver confirms or refuses a proposed approval; its author may
withdraw it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from entraide.applications import selectors as application_selectors
from entraide.core.errors import DomainError
from entraide.funds import selectors as fund_selectors
from entraide.funds.permissions import Capability
from entraide.review import selectors, services
from entraide.review.forms import SecondApprovalAnswerForm


@login_required
@require_POST
def second_approval_answer(
    request: HttpRequest, slug: str, reference: str, proposal_id: int
) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.DECIDE)
    application = application_selectors.application_for_staff(request.user, fund, reference)
    proposal = get_object_or_404(selectors.second_approvals_of(application.pk), pk=proposal_id)
    form = SecondApprovalAnswerForm(request.POST)
    answer = form.cleaned_data["answer"] if form.is_valid() else ""
    try:
        match request.POST.get("answer_as"):
            case "confirm":
                outcome = services.confirm_second_approval(
                    actor=request.user, second_approval=proposal, answer=answer
                )
                said = (
                    _("Approval confirmed; the grant is reserved in the budget.")
                    if outcome.decision is not None
                    else _("Approval confirmed; the budget is committed, it waits on the list.")
                )
            case "refuse":
                services.refuse_second_approval(
                    actor=request.user, second_approval=proposal, answer=answer
                )
                said = _("Approval refused; the application is back in review.")
            case "withdraw":
                services.withdraw_second_approval(actor=request.user, second_approval=proposal)
                said = _("Your proposal is withdrawn.")
            case _:
                messages.error(request, _("Choose to confirm or to refuse."))
                return redirect("staff_application", slug=fund.slug, reference=reference)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, said)
    return redirect("staff_application", slug=fund.slug, reference=reference)
