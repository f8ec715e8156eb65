"""The payments back office of a fund: batches from preparation to the bank, the bank's returns,
the failed transfers waiting for a decision, the reconciliation and the payment settings.

Every page reads with VIEW_PAYMENTS; every action needs MANAGE_PAYMENTS (the settings:
MANAGE_FUND). A refused action shows the page again with the reason on the field it concerns,
keeping what was typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.files import clean_file_name
from entraide.core.forms import add_domain_error
from entraide.core.money import ZERO
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Award, Fund
from entraide.funds.permissions import Capability, capabilities
from entraide.payments import reasons, reconciliation, services
from entraide.payments.forms import (
    BankReturnForm,
    CancelForm,
    NoteForm,
    PaymentSettingsForm,
    ReleaseForm,
    SelectionForm,
    columns_as_lines,
)
from entraide.payments.models import (
    SEPA_FORMATS,
    BankDetailsChange,
    BankReturn,
    Payment,
    PaymentBatch,
    PaymentFile,
    default_csv_columns,
)
from entraide.payments.returns import InvalidBankReturn

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class JSONArrayLength(Func):
    """The length of a JSON array column, counted by the database (the array stays there)."""

    function = "JSON_ARRAY_LENGTH"
    output_field = IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSONB_ARRAY_LENGTH", **extra)


def _render(
    request: HttpRequest, template: str, fund: Fund, context: dict[str, Any]
) -> HttpResponse:
    granted = capabilities(request.user, fund)
    return render(
        request,
        template,
        {
            "fund": fund,
            "capabilities": granted,
            "can_manage": Capability.MANAGE_PAYMENTS in granted,
            **context,
        },
    )


def _page(request: HttpRequest, items: Any, parameter: str = "page") -> Any:
    return Paginator(items, settings.BACKOFFICE_PAGE_SIZE).get_page(request.GET.get(parameter))


def _explained(payments: Any) -> list[tuple[Payment, str]]:
    """Each payment with the explanation of its bank's reason code, if any."""
    return [
        (payment, reasons.explain(payment.reason_code) if payment.reason_code else "")
        for payment in payments
    ]


def _kept_on_form(request: HttpRequest, form: Any, error: DomainError) -> bool:
    """A refusal about a field goes on the form, shown again with what was typed; any other
    (four eyes, a state that moved on meanwhile) is said above the page as it is now."""
    if error.field in form.fields:
        add_domain_error(form, error)
        return True
    messages.error(request, str(error.message))
    return False


# -- overview ----------------------------------------------------------------------------------


def _awaiting_decision(fund: Fund) -> QuerySet[Payment]:
    """Failed transfers whose award is still reserved and not being paid again: finance pays it
    again (once new bank details are verified, when asked) or releases it."""
    later_attempt = Payment.objects.filter(award=OuterRef("award"), attempt__gt=OuterRef("attempt"))
    open_change = BankDetailsChange.objects.filter(
        application_id=OuterRef("award__application_id"), status__in=BankDetailsChange.OPEN
    )
    return (
        Payment.objects.filter(
            fund=fund, status=Payment.Status.FAILED, award__status=Award.Status.RESERVED
        )
        .exclude(Exists(later_attempt))
        .annotate(
            application_reference=F("award__application__reference"),
            bank_details_status=Subquery(open_change.values("status")[:1]),
        )
        .select_related("batch")
        .defer("bic", "remittance")
        .order_by("failed_at", "pk")
    )


def _payable(fund: Fund) -> dict[str, Any]:
    payable = services.payable_awards(fund).aggregate(count=Count("pk"), total=Sum("amount"))
    return {"count": payable["count"], "total": payable["total"] or ZERO}


def _render_overview(
    request: HttpRequest,
    fund: Fund,
    *,
    prepare_form: SelectionForm | None = None,
    failed_form: tuple[int, NoteForm] | None = None,
) -> HttpResponse:
    criteria = prepare_form
    if criteria is None:
        asked = any(name in request.GET for name in SelectionForm.base_fields)
        criteria = SelectionForm(request.GET if asked else None)
    preview = None
    if criteria.is_bound and criteria.is_valid():
        preview = services.preview_batch(fund, criteria.selection())
    failed_page = _page(request, _awaiting_decision(fund), "failed_page")
    bank_details_labels = dict(BankDetailsChange.Status.choices)
    failed = []
    for payment, explanation in _explained(failed_page):
        form = NoteForm(prefix=f"payment-{payment.pk}")
        if failed_form is not None and failed_form[0] == payment.pk:
            form = failed_form[1]
        change = getattr(payment, "bank_details_status", None)
        failed.append((payment, explanation, bank_details_labels[change] if change else "", form))
    batches = PaymentBatch.objects.filter(fund=fund).select_related("prepared_by", "released_by")
    return _render(
        request,
        "payments/overview.html",
        fund,
        {
            "payment_settings": services.settings_of(fund),
            "payable": _payable(fund),
            "criteria": criteria,
            "preview": preview,
            "hidden_criteria": [
                (name, criteria.data.get(name, "")) for name in SelectionForm.base_fields
            ],
            "page": _page(request, batches),
            "failed_page": failed_page,
            "failed": failed,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def payments_overview(request: HttpRequest, slug: str) -> HttpResponse:
    """What can be paid, the preview and preparation of a batch, the fund's batches and the
    failed transfers waiting for a decision."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_PAYMENTS)
    if request.method != "POST":
        return _render_overview(request, fund)
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_PAYMENTS)
    form = SelectionForm(request.POST)
    if form.is_valid():
        try:
            batch = services.prepare_payment_batch(
                actor=request.user, fund=fund, selection=form.selection()
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Batch %(reference)s is prepared: another person of finance releases it.")
                % {"reference": batch.reference},
            )
            return redirect("payment_batch", slug=fund.slug, reference=batch.reference)
    return _render_overview(request, fund, prepare_form=form)


@login_required
@require_POST
def failed_payment_release(request: HttpRequest, slug: str, payment_id: int) -> HttpResponse:
    """Give up paying an award whose transfer failed: its money goes back to the budget."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_PAYMENTS)
    payment = get_object_or_404(Payment.objects.select_related("fund"), fund=fund, pk=payment_id)
    form = NoteForm(request.POST, prefix=f"payment-{payment.pk}")
    if form.is_valid():
        try:
            services.release_failed_award(
                actor=request.user, payment=payment, note=form.cleaned_data["note"]
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            if not _kept_on_form(request, form, error):
                return redirect("payments_overview", slug=fund.slug)
        else:
            messages.success(
                request,
                _("The award of %(payment)s is released: its money is back in the budget.")
                % {"payment": payment.end_to_end_id},
            )
            return redirect("payments_overview", slug=fund.slug)
    return _render_overview(request, fund, failed_form=(payment.pk, form))


# -- settings ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def payment_settings(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    current = services.settings_of(fund)
    initial: dict[str, Any] = {"debtor_name": fund.name, "initiating_party": fund.name}
    if current is not None:
        initial = {name: getattr(current, name) for name in services.SETTINGS_FIELDS}
        initial["csv_columns"] = columns_as_lines(current.csv_columns)
    else:
        initial["csv_columns"] = columns_as_lines(default_csv_columns())
    form = PaymentSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_payment_settings(actor=request.user, fund=fund, values=form.cleaned_data)
        except PermissionDenied:
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The payment settings are saved."))
            return redirect("payment_settings", slug=fund.slug)
    return _render(
        request,
        "payments/settings.html",
        fund,
        {"form": form, "payment_settings": current},
    )


# -- batches -----------------------------------------------------------------------------------


def _batch_of(fund: Fund, reference: str) -> PaymentBatch:
    return get_object_or_404(
        PaymentBatch.objects.select_related(
            "fund", "prepared_by", "released_by", "sent_by", "cancelled_by"
        ),
        fund=fund,
        reference=reference,
    )


def _cancel_form(batch: PaymentBatch, data: Any = None) -> CancelForm:
    """The cancel form; the bank's receipt is asked only once the file was downloaded."""
    form = CancelForm(data)
    if batch.downloaded_at is None:
        del form.fields["bank_did_not_receive"]
    return form


def _render_batch(
    request: HttpRequest,
    fund: Fund,
    batch: PaymentBatch,
    *,
    release_form: ReleaseForm | None = None,
    cancel_form: CancelForm | None = None,
) -> HttpResponse:
    payments = (
        Payment.objects.filter(batch=batch)
        .annotate(
            application_reference=F("award__application__reference"),
        )
        .defer("bic", "remittance")
        .order_by("pk")
    )
    page = _page(request, payments)
    statuses = dict(Payment.Status.choices)
    by_status = [
        (statuses.get(row["status"], row["status"]), row["currency"], row["count"], row["total"])
        for row in Payment.objects.filter(batch=batch)
        .values("status", "currency")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by("status", "currency")
    ]
    prepared = batch.status == PaymentBatch.Status.PREPARED
    return _render(
        request,
        "payments/batch.html",
        fund,
        {
            "batch": batch,
            # The content stays in the database: the page shows what the file is, not its bytes.
            "stored_file": PaymentFile.objects.filter(batch=batch).defer("content").first(),
            "by_status": by_status,
            "page": page,
            "payments": _explained(page),
            "prepared_it": batch.prepared_by_id == request.user.pk,
            "release_form": release_form or (ReleaseForm() if prepared else None),
            "cancel_form": cancel_form or _cancel_form(batch),
            "generating": batch.status == PaymentBatch.Status.RELEASED
            and not batch.generation_error,
            # Once downloaded, the bank may have the file: it can only be marked sent.
            "cancellable": batch.status
            not in (PaymentBatch.Status.SENT, PaymentBatch.Status.CANCELLED),
        },
    )


@login_required
@require_safe
def payment_batch(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_PAYMENTS)
    return _render_batch(request, fund, _batch_of(fund, reference))


@login_required
@require_POST
def payment_batch_release(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """The second person of finance releases the batch (four eyes); its file is generated."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_PAYMENTS)
    batch = _batch_of(fund, reference)
    form = ReleaseForm(request.POST)
    if form.is_valid():
        try:
            services.release_payment_batch(
                actor=request.user, batch=batch, execution_date=form.cleaned_data["execution_date"]
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            if not _kept_on_form(request, form, error):
                return redirect("payment_batch", slug=fund.slug, reference=batch.reference)
        else:
            messages.success(request, _("The batch is released."))
            return redirect("payment_batch", slug=fund.slug, reference=batch.reference)
    return _render_batch(request, fund, batch, release_form=form)


def _act_on_batch(
    request: HttpRequest,
    slug: str,
    reference: str,
    action: Callable[..., Any],
    done: str,
) -> HttpResponse:
    """A batch action without a form: done, or refused with the service's reason; back to
    the batch's page either way."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_PAYMENTS)
    batch = _batch_of(fund, reference)
    try:
        action(actor=request.user, batch=batch)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, done)
    return redirect("payment_batch", slug=fund.slug, reference=batch.reference)


@login_required
@require_POST
def payment_batch_generate(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """Generate a released batch's file again (its generation failed, or the worker died)."""
    return _act_on_batch(
        request,
        slug,
        reference,
        services.generate_payment_file_again,
        _("The file is being generated again."),
    )


@login_required
@require_POST
def payment_batch_sent(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """Finance uploaded the file to the bank: its awards are paid."""
    return _act_on_batch(
        request,
        slug,
        reference,
        services.mark_batch_sent,
        _("The batch is marked as sent: its awards are paid."),
    )


@login_required
@require_POST
def payment_batch_cancel(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_PAYMENTS)
    batch = _batch_of(fund, reference)
    form = _cancel_form(batch, request.POST)
    if form.is_valid():
        try:
            services.cancel_payment_batch(
                actor=request.user,
                batch=batch,
                note=form.cleaned_data["note"],
                bank_did_not_receive=form.cleaned_data.get("bank_did_not_receive", False),
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            if not _kept_on_form(request, form, error):
                return redirect("payment_batch", slug=fund.slug, reference=batch.reference)
        else:
            messages.success(request, _("The batch is cancelled: its awards can be paid again."))
            return redirect("payment_batch", slug=fund.slug, reference=batch.reference)
    return _render_batch(request, fund, batch, cancel_form=form)


@never_cache
@login_required
@require_safe
def payment_batch_file(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """The batch's file, to upload to the bank (each download is audited by the service)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_PAYMENTS)
    batch = _batch_of(fund, reference)
    try:
        stored = services.file_for_download(actor=request.user, batch=batch)
    except PermissionDenied:
        raise
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("payment_batch", slug=fund.slug, reference=batch.reference)
    content_type = "application/xml" if stored.file_format in SEPA_FORMATS else "text/csv"
    return HttpResponse(
        bytes(stored.content),
        content_type=f"{content_type}; charset=utf-8",
        headers={"Content-Disposition": content_disposition_header(True, stored.name)},
    )


# -- bank returns ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def bank_returns(request: HttpRequest, slug: str) -> HttpResponse:
    """The bank's returns imported so far, and the form to import another."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_PAYMENTS)
    form = BankReturnForm()
    if request.method == "POST":
        fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_PAYMENTS)
        form = BankReturnForm(request.POST, request.FILES)
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            try:
                outcome = services.import_bank_return(
                    actor=request.user,
                    fund=fund,
                    file_name=clean_file_name(uploaded.name),
                    content=uploaded.read(),
                    on_failure=form.cleaned_data["on_failure"],
                )
            except PermissionDenied:
                raise
            except InvalidBankReturn as error:
                form.add_error("file", str(error.message))
            except DomainError as error:
                add_domain_error(form, error)
            else:
                imported = outcome.bank_return
                url = reverse("bank_return", args=[fund.slug, imported.pk])
                if outcome.already_imported:
                    messages.info(
                        request,
                        format_html(
                            _("This file was imported already, nothing changed: {link}."),
                            link=format_html('<a href="{}">{}</a>', url, imported.file_name),
                        ),
                    )
                    return redirect("bank_returns", slug=fund.slug)
                messages.success(
                    request,
                    _(
                        "Imported: %(confirmed)s confirmed, %(failed)s failed, %(unchanged)s "
                        "already known, %(problems)s problems."
                    )
                    % {
                        "confirmed": imported.confirmed,
                        "failed": imported.failed,
                        "unchanged": imported.unchanged,
                        "problems": len(imported.problems),
                    },
                )
                return redirect(url)
    returns = (
        BankReturn.objects.filter(fund=fund)
        .select_related("imported_by")
        .defer("problems")
        .annotate(problem_count=JSONArrayLength("problems"))
    )
    return _render(
        request,
        "payments/returns.html",
        fund,
        {"form": form, "page": _page(request, returns)},
    )


@login_required
@require_safe
def bank_return(request: HttpRequest, slug: str, return_id: int) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_PAYMENTS)
    imported = get_object_or_404(
        BankReturn.objects.select_related("imported_by"), fund=fund, pk=return_id
    )
    payments = (
        Payment.objects.filter(bank_return=imported)
        .annotate(
            batch_reference=F("batch__reference"),
            application_reference=F("award__application__reference"),
        )
        .defer("bic", "remittance")
        .order_by("pk")
    )
    page = _page(request, payments)
    return _render(
        request,
        "payments/return.html",
        fund,
        {
            "bank_return": imported,
            "problems_page": _page(request, imported.problems, "problems_page"),
            "page": page,
            "payments": _explained(page),
        },
    )


# -- reconciliation ----------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def payments_reconciliation(request: HttpRequest, slug: str) -> HttpResponse:
    """Where every approved euro is, the checks that prove each was paid at most once, and the
    lines as CSV or XLSX (``?format=``)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_PAYMENTS)
    wanted = request.GET.get("format")
    if wanted == "csv":
        return HttpResponse(
            reconciliation.export_csv(fund),
            content_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": content_disposition_header(True, f"{fund.slug}-payments.csv")
            },
        )
    if wanted == "xlsx":
        return HttpResponse(
            reconciliation.export_xlsx(fund),
            content_type=XLSX,
            headers={
                "Content-Disposition": content_disposition_header(
                    True, f"{fund.slug}-payments.xlsx"
                )
            },
        )
    if wanted is not None:
        raise Http404
    return _render(
        request,
        "payments/reconciliation.html",
        fund,
        {"summary": reconciliation.reconcile(fund)},
    )
