"""Approving the auto-eligible queue at once: the summary to confirm, then its progress."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from entraide.core.errors import DomainError
from entraide.funds import selectors as fund_selectors
from entraide.funds.permissions import Capability
from entraide.review import bulk
from entraide.review.models import BulkApproval


@login_required
@require_http_methods(["GET", "POST"])
def bulk_approval(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.CONFIRM_APPROVAL)
    if request.method == "POST":
        try:
            seen_count = int(request.POST.get("count", ""))
            seen_total = Decimal(request.POST.get("total", ""))
        except (ValueError, InvalidOperation):
            seen_count, seen_total = -1, Decimal(-1)  # shown the summary again
        if not seen_total.is_finite():
            seen_count, seen_total = -1, Decimal(-1)
        try:
            approval = bulk.request_bulk_approval(
                actor=request.user, fund=fund, seen_count=seen_count, seen_total=seen_total
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            return redirect("bulk_approval_status", slug=fund.slug, bulk_id=approval.pk)
    return render(
        request,
        "review/bulk_approval.html",
        {"fund": fund, "summary": bulk.summary(actor=request.user, fund=fund)},
    )


@login_required
@require_safe
def bulk_approval_status(request: HttpRequest, slug: str, bulk_id: int) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.CONFIRM_APPROVAL)
    try:
        approval = bulk.bulk_approval_of(fund, bulk_id)
    except BulkApproval.DoesNotExist:
        raise Http404 from None
    running = approval.status in (BulkApproval.Status.QUEUED, BulkApproval.Status.RUNNING)
    return render(
        request,
        "review/bulk_approval_status.html",
        {"fund": fund, "approval": approval, "running": running},
    )
