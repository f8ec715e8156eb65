"""The payments back office through its pages: what finance sees and does, four eyes, the
file's download, the bank's returns, the reconciliation's downloads, and bounded queries."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from entraide.accounts.models import User
from entraide.audit.models import AuditEvent
from entraide.funds.models import Award, Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.payments import forms as payment_forms
from entraide.payments import services
from entraide.payments.models import (
    BankReturn,
    FileFormat,
    Payment,
    PaymentBatch,
    PaymentFile,
    PaymentSettings,
)
from entraide.payments.services import Selection
from entraide.payments.tests.factories import PaymentSettingsFactory
from entraide.payments.tests.helpers import approved, member_of, status_report

Role = FundRole.Role


def upload(name: str, content: bytes) -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


@pytest.fixture
def fund(db: None) -> Fund:
    fund: Fund = FundFactory.create(budget=Decimal("100000.00"), slug="relief")
    PaymentSettingsFactory.create(fund=fund)
    return fund


@pytest.fixture
def capture(django_capture_on_commit_callbacks: Any) -> Any:
    """Runs the file's task in-process when the release commits."""
    return django_capture_on_commit_callbacks


def prepared(fund: Fund, preparer: User, selection: Selection | None = None) -> PaymentBatch:
    return services.prepare_payment_batch(
        actor=preparer, fund=fund, selection=selection or Selection()
    )


def ready(fund: Fund, preparer: User, releaser: User, capture: Any) -> PaymentBatch:
    batch = prepared(fund, preparer)
    with capture(execute=True):
        services.release_payment_batch(actor=releaser, batch=batch)
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.READY
    return batch


def sent(fund: Fund, preparer: User, releaser: User, capture: Any) -> PaymentBatch:
    return services.mark_batch_sent(actor=preparer, batch=ready(fund, preparer, releaser, capture))


def batch_url(name: str, batch: PaymentBatch) -> str:
    return reverse(name, args=[batch.fund.slug, batch.reference])


# -- the pages ---------------------------------------------------------------------------------


def test_every_page_renders_for_finance(
    client: Client, fund: Fund, preparer: User, releaser: User, capture: Any
) -> None:
    approved(fund, 3)
    batch = sent(fund, preparer, releaser, capture)
    (payment,) = Payment.objects.filter(batch=batch)[:1]
    outcome = services.import_bank_return(
        actor=preparer,
        fund=fund,
        file_name="status.xml",
        content=status_report(batch.reference, [(payment.end_to_end_id, "RJCT", "AC04")]),
    )
    client.force_login(preparer)

    pages = [
        reverse("payments_overview", args=[fund.slug]),
        batch_url("payment_batch", batch),
        reverse("bank_returns", args=[fund.slug]),
        reverse("bank_return", args=[fund.slug, outcome.bank_return.pk]),
        reverse("payments_reconciliation", args=[fund.slug]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    html = client.get(pages[1]).content.decode()
    assert batch.reference in html
    assert payment.iban not in html  # only its last 4 characters
    assert f"{payment.iban[:4]} •••• {payment.iban[-4:]}" in html


def test_the_fund_dashboard_links_to_payments_for_those_who_see_them(
    client: Client, fund: Fund
) -> None:
    url = reverse("payments_overview", args=[fund.slug])
    for role, shown in ((Role.FINANCE, True), (Role.AUDITOR, True), (Role.REVIEWER, False)):
        client.force_login(member_of(fund, role))
        html = client.get(reverse("fund_dashboard", args=[fund.slug])).content.decode()
        assert (f'href="{url}"' in html) is shown, role


def test_the_overview_says_when_payments_are_not_set_up(client: Client, db: None) -> None:
    fund: Fund = FundFactory.create()
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))

    response = client.get(reverse("payments_overview", args=[fund.slug]))

    assert response.context["payment_settings"] is None
    html = response.content.decode()
    assert "Payments are not set up yet" in html
    assert reverse("payment_settings", args=[fund.slug]) in html


def test_the_preview_shows_count_and_total_and_prepares_nothing(
    client: Client, fund: Fund, preparer: User
) -> None:
    approved(fund, 3, amount="400.00")
    client.force_login(preparer)

    response = client.get(
        reverse("payments_overview", args=[fund.slug]),
        {"approved_until": "", "up_to_amount": "1000", "limit": ""},
    )

    preview = response.context["preview"]
    assert (preview.count, preview.total, preview.payable) == (2, Decimal("800.00"), 3)
    assert "Prepare a batch of these 2 awards" in response.content.decode()
    assert not PaymentBatch.objects.exists()


def test_preparing_a_batch_takes_the_previewed_criteria_and_shows_the_batch(
    client: Client, fund: Fund, preparer: User
) -> None:
    approved(fund, 3, amount="400.00")
    client.force_login(preparer)

    response = client.post(
        reverse("payments_overview", args=[fund.slug]),
        {"approved_until": "", "up_to_amount": "1000", "limit": ""},
    )

    batch = PaymentBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == batch_url("payment_batch", batch)
    assert (batch.count, batch.total, batch.prepared_by) == (2, Decimal("800.00"), preparer)


def test_nothing_to_pay_is_said_on_the_prepare_form_keeping_the_criteria(
    client: Client, fund: Fund, preparer: User
) -> None:
    client.force_login(preparer)

    response = client.post(
        reverse("payments_overview", args=[fund.slug]),
        {"approved_until": "2030-01-31", "up_to_amount": "1234.56", "limit": "7"},
    )

    assert response.status_code == 200
    form = response.context["criteria"]
    assert form.non_field_errors() == [str(services.NothingToPay.default_message)]
    html = response.content.decode()
    assert 'value="2030-01-31"' in html
    assert 'value="1234.56"' in html
    assert 'value="7"' in html


def test_an_auditor_sees_the_payments_without_any_action(
    client: Client, fund: Fund, preparer: User
) -> None:
    approved(fund, 1)
    batch = prepared(fund, preparer)
    client.force_login(member_of(fund, Role.AUDITOR))

    overview = client.get(reverse("payments_overview", args=[fund.slug]), {"limit": "5"})
    page = client.get(batch_url("payment_batch", batch))

    assert overview.context["preview"].count == 0  # the award is in the batch already
    assert page.status_code == 200
    html = page.content.decode()
    assert batch_url("payment_batch_release", batch) not in html
    assert batch_url("payment_batch_cancel", batch) not in html
    refused = client.post(batch_url("payment_batch_cancel", batch), {"note": "no"})
    assert refused.status_code == 404


# -- settings ----------------------------------------------------------------------------------


def settings_data(**overrides: str) -> dict[str, str]:
    data = {
        "file_format": FileFormat.PAIN_001_001_09,
        "debtor_name": "Fonds de secours",
        "debtor_iban": "FR76 3000 6000 0112 3456 7890 189",
        "debtor_bic": "",
        "initiating_party": "Audiens",
        "initiating_party_id": "",
        "execution_days": "2",
        "remittance_template": "Aide {fund} {reference}",
        "csv_columns": "Référence = end_to_end_id\nMontant = amount",
        "csv_delimiter": ";",
        "csv_decimal_comma": "on",
    }
    data.update(overrides)
    return data


def test_the_operator_admin_saves_the_settings_with_csv_columns_as_lines(
    client: Client, db: None
) -> None:
    fund: Fund = FundFactory.create()
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))

    response = client.post(reverse("payment_settings", args=[fund.slug]), settings_data())

    assert response.status_code == 302
    saved = PaymentSettings.objects.get(fund=fund)
    assert saved.debtor_iban == "FR7630006000011234567890189"
    assert saved.debtor_bic  # derived from the IBAN
    assert saved.csv_columns == [["Référence", "end_to_end_id"], ["Montant", "amount"]]
    assert (saved.csv_delimiter, saved.csv_decimal_comma, saved.execution_days) == (";", True, 2)
    shown = client.get(reverse("payment_settings", args=[fund.slug])).content.decode()
    assert "Référence = end_to_end_id\nMontant = amount" in shown


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"debtor_iban": "FR76 0000 BAD"}, "debtor_iban", "This IBAN is not valid"),
        ({"remittance_template": "Aide {fund}"}, "remittance_template", "put {reference}"),
        ({"csv_columns": "Montant = amount\nNom"}, "csv_columns", "Line 2 has no “=”"),
        ({"csv_columns": "Montant = price"}, "csv_columns", "is not one of the fields"),
    ],
)
def test_a_refused_setting_is_shown_on_its_field_keeping_what_was_typed(
    client: Client, db: None, overrides: dict[str, str], field: str, message: str
) -> None:
    fund: Fund = FundFactory.create()
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))

    response = client.post(
        reverse("payment_settings", args=[fund.slug]), settings_data(**overrides)
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    html = response.content.decode()
    assert 'value="Fonds de secours"' in html
    assert f'id="id_{field}_error"' in html
    assert not PaymentSettings.objects.filter(fund=fund).exists()


def test_finance_cannot_change_the_payment_settings(client: Client, fund: Fund) -> None:
    client.force_login(member_of(fund, Role.FINANCE))

    response = client.post(reverse("payment_settings", args=[fund.slug]), settings_data())

    assert response.status_code == 404
    assert PaymentSettings.objects.get(fund=fund).execution_days == 1


# -- four eyes, the file, sent, cancelled ------------------------------------------------------


def test_the_preparer_cannot_release_their_batch_and_another_finance_person_can(
    client: Client, fund: Fund, preparer: User, releaser: User, capture: Any
) -> None:
    approved(fund, 2)
    batch = prepared(fund, preparer)
    client.force_login(preparer)

    page = client.get(batch_url("payment_batch", batch)).content.decode()
    refused = client.post(
        batch_url("payment_batch_release", batch), {"execution_date": ""}, follow=True
    )

    assert "another person of finance must release it" in page
    assert batch_url("payment_batch_release", batch) not in page
    assert refused.redirect_chain == [(batch_url("payment_batch", batch), 302)]
    assert [str(message) for message in refused.context["messages"]] == [
        str(services.SamePersonReleases.default_message)
    ]
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.PREPARED

    client.force_login(releaser)
    page = client.get(batch_url("payment_batch", batch)).content.decode()
    with capture(execute=True):
        released = client.post(batch_url("payment_batch_release", batch), {"execution_date": ""})

    assert batch_url("payment_batch_release", batch) in page
    assert released.status_code == 302
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.READY
    assert batch.released_by == releaser


def test_a_released_batch_says_its_file_is_being_generated_and_refreshes(
    client: Client, fund: Fund, preparer: User, releaser: User
) -> None:
    approved(fund, 1)
    batch = services.release_payment_batch(actor=releaser, batch=prepared(fund, preparer))
    client.force_login(preparer)

    html = client.get(batch_url("payment_batch", batch)).content.decode()

    assert "its file is being generated" in html
    assert 'data-refresh-seconds="2"' in html
    assert batch_url("payment_batch_file", batch) not in html


def test_an_execution_date_in_the_past_is_refused_on_its_field_keeping_it(
    client: Client, fund: Fund, preparer: User, releaser: User
) -> None:
    approved(fund, 1)
    batch = prepared(fund, preparer)
    client.force_login(releaser)

    response = client.post(
        batch_url("payment_batch_release", batch), {"execution_date": "2001-02-03"}
    )

    assert response.status_code == 200
    assert list(response.context["release_form"].errors) == ["execution_date"]
    assert 'value="2001-02-03"' in response.content.decode()


def test_the_download_returns_the_file_and_is_audited(
    client: Client, fund: Fund, preparer: User, releaser: User, capture: Any
) -> None:
    approved(fund, 2)
    batch = ready(fund, preparer, releaser, capture)
    stored = PaymentFile.objects.get(batch=batch)
    client.force_login(releaser)

    page = client.get(batch_url("payment_batch", batch)).content.decode()
    response = client.get(batch_url("payment_batch_file", batch))

    assert stored.sha256 in page
    assert batch_url("payment_batch_file", batch) in page
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert response["Content-Disposition"] == f'attachment; filename="{stored.name}"'
    assert "no-store" in response["Cache-Control"]
    assert response.content == bytes(stored.content)
    downloads = AuditEvent.objects.filter(action="payment_file.downloaded")
    assert list(downloads.values_list("actor", flat=True)) == [releaser.pk]


def test_a_batch_without_a_file_offers_no_download(
    client: Client, fund: Fund, preparer: User
) -> None:
    approved(fund, 1)
    batch = prepared(fund, preparer)
    client.force_login(preparer)

    response = client.get(batch_url("payment_batch_file", batch), follow=True)

    assert response.redirect_chain == [(batch_url("payment_batch", batch), 302)]
    assert "This batch has no file to download." in response.content.decode()
    assert not AuditEvent.objects.filter(action="payment_file.downloaded").exists()


def test_marking_a_ready_batch_sent_pays_its_awards(
    client: Client, fund: Fund, preparer: User, releaser: User, capture: Any
) -> None:
    awards = approved(fund, 2)
    batch = ready(fund, preparer, releaser, capture)
    client.force_login(preparer)

    response = client.post(batch_url("payment_batch_sent", batch))

    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.SENT
    assert batch.sent_by == preparer
    paid = Award.objects.filter(pk__in=[award.pk for award in awards], status=Award.Status.PAID)
    assert paid.count() == 2


def test_cancelling_needs_a_reason_and_keeps_the_form_then_frees_the_awards(
    client: Client, fund: Fund, preparer: User
) -> None:
    approved(fund, 2)
    batch = prepared(fund, preparer)
    client.force_login(preparer)

    refused = client.post(batch_url("payment_batch_cancel", batch), {"note": "   "})
    done = client.post(batch_url("payment_batch_cancel", batch), {"note": "Wrong date"})

    assert refused.status_code == 200
    assert list(refused.context["cancel_form"].errors) == ["note"]
    assert done.status_code == 302
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.CANCELLED
    assert services.payable_awards(fund).count() == 2


# -- bank returns and failed transfers ---------------------------------------------------------


def test_a_file_that_is_no_bank_return_is_refused_on_the_file_field(
    client: Client, fund: Fund, preparer: User
) -> None:
    client.force_login(preparer)

    response = client.post(
        reverse("bank_returns", args=[fund.slug]),
        {"file": upload("notes.xml", b"<notes><note/></notes>"), "on_failure": "release"},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["file"]
    assert form["on_failure"].value() == "release"  # the choice made is kept
    assert not BankReturn.objects.exists()


def test_a_bank_return_above_the_size_limit_is_refused_before_it_is_read(
    client: Client, fund: Fund, preparer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(payment_forms, "MAX_BANK_RETURN_BYTES", 10)
    client.force_login(preparer)

    response = client.post(
        reverse("bank_returns", args=[fund.slug]),
        {"file": upload("big.xml", b"<x>" + b"a" * 20 + b"</x>"), "on_failure": "keep"},
    )

    assert "larger than 50 MB" in response.context["form"].errors["file"][0]
    assert not BankReturn.objects.exists()


def test_a_bank_return_is_imported_then_recognised_when_sent_again(
    client: Client, fund: Fund, preparer: User, releaser: User, capture: Any
) -> None:
    approved(fund, 2)
    batch = sent(fund, preparer, releaser, capture)
    first, second = Payment.objects.filter(batch=batch).order_by("pk")
    content = status_report(
        batch.reference, [(first.end_to_end_id, "ACCP", ""), (second.end_to_end_id, "RJCT", "AC04")]
    )
    client.force_login(releaser)
    url = reverse("bank_returns", args=[fund.slug])

    imported = client.post(url, {"file": upload("report.xml", content), "on_failure": "keep"})
    again = client.post(
        url, {"file": upload("report-copy.xml", content), "on_failure": "keep"}, follow=True
    )

    bank_return = BankReturn.objects.get()
    detail = reverse("bank_return", args=[fund.slug, bank_return.pk])
    assert imported["Location"] == detail
    assert (bank_return.confirmed, bank_return.failed) == (1, 1)
    assert BankReturn.objects.count() == 1
    html = again.content.decode()
    assert "This file was imported already" in html
    assert f'<a href="{detail}">report.xml</a>' in html
    page = client.get(detail).content.decode()
    assert second.end_to_end_id in page
    assert "The beneficiary&#x27;s account is closed." in page


def test_a_failed_transfer_waits_for_a_decision_and_is_released_with_a_reason(
    client: Client, fund: Fund, preparer: User, releaser: User, capture: Any
) -> None:
    (award,) = approved(fund, 1)
    batch = sent(fund, preparer, releaser, capture)
    payment = Payment.objects.get(batch=batch)
    services.import_bank_return(
        actor=preparer,
        fund=fund,
        file_name="status.xml",
        content=status_report(batch.reference, [(payment.end_to_end_id, "RJCT", "AM04")]),
    )
    client.force_login(releaser)
    overview = reverse("payments_overview", args=[fund.slug])
    release = reverse("failed_payment_release", args=[fund.slug, payment.pk])

    listed = client.get(overview)
    refused = client.post(release, {f"payment-{payment.pk}-note": ""})
    done = client.post(release, {f"payment-{payment.pk}-note": "Applicant left France"})

    failed = listed.context["failed"]
    assert [row[0] for row in failed] == [payment]
    assert "There was not enough money on the fund" in failed[0][1]
    assert refused.status_code == 200
    assert [row[3].errors for row in refused.context["failed"]] == [
        {"note": ["This field is required."]}
    ]
    assert done.status_code == 302
    award.refresh_from_db()
    assert award.status == Award.Status.RELEASED
    assert client.get(overview).context["failed"] == []


# -- reconciliation ----------------------------------------------------------------------------


def test_the_reconciliation_shows_its_checks_in_words_and_downloads_csv_and_xlsx(
    client: Client, fund: Fund, preparer: User, releaser: User, capture: Any
) -> None:
    approved(fund, 2)
    sent(fund, preparer, releaser, capture)
    approved(fund, 1)  # in no batch yet
    client.force_login(member_of(fund, Role.AUDITOR))
    url = reverse("payments_reconciliation", args=[fund.slug])

    page = client.get(url)
    as_csv = client.get(url, {"format": "csv"})
    as_xlsx = client.get(url, {"format": "xlsx"})

    assert page.context["summary"].balanced
    assert "Holds" in page.content.decode()
    assert as_csv["Content-Disposition"] == 'attachment; filename="relief-payments.csv"'
    rows = list(csv.reader(io.StringIO(as_csv.content.decode())))
    assert len(rows) == 1 + 3
    assert as_xlsx["Content-Disposition"] == 'attachment; filename="relief-payments.xlsx"'
    workbook = load_workbook(io.BytesIO(as_xlsx.content), read_only=True)
    assert len(workbook.sheetnames) == 2
    assert client.get(url, {"format": "pdf"}).status_code == 404


# -- bounded queries ---------------------------------------------------------------------------


@pytest.mark.parametrize("batches", [1, 6])
def test_the_overview_reads_a_bounded_number_of_queries(
    client: Client,
    fund: Fund,
    preparer: User,
    releaser: User,
    capture: Any,
    django_assert_max_num_queries: Any,
    batches: int,
) -> None:
    for _ in range(batches):
        approved(fund, 2)
        batch = sent(fund, preparer, releaser, capture)
        (payment, _other) = Payment.objects.filter(batch=batch)
        services.import_bank_return(
            actor=preparer,
            fund=fund,
            file_name=f"{batch.reference}.xml",
            content=status_report(batch.reference, [(payment.end_to_end_id, "RJCT", "AC04")]),
        )
    client.force_login(releaser)

    with django_assert_max_num_queries(15):
        response = client.get(reverse("payments_overview", args=[fund.slug]), {"limit": "3"})

    assert len(response.context["page"]) == batches
    assert len(response.context["failed"]) == batches


@pytest.mark.parametrize("awards", [1, 12])
def test_the_batch_page_reads_a_bounded_number_of_queries(
    client: Client,
    fund: Fund,
    preparer: User,
    releaser: User,
    capture: Any,
    django_assert_max_num_queries: Any,
    awards: int,
) -> None:
    approved(fund, awards)
    url = batch_url("payment_batch", ready(fund, preparer, releaser, capture))
    client.force_login(preparer)

    with django_assert_max_num_queries(12):
        response = client.get(url)

    assert len(response.context["payments"]) == awards


@pytest.mark.parametrize("returns", [1, 8])
def test_the_returns_list_reads_a_bounded_number_of_queries(
    client: Client, fund: Fund, preparer: User, django_assert_max_num_queries: Any, returns: int
) -> None:
    for number in range(returns):
        services.import_bank_return(
            actor=preparer,
            fund=fund,
            file_name=f"status-{number}.xml",
            content=status_report(f"P-{number}", [(f"UNKNOWN-{number}", "ACCP", "")]),
        )
    client.force_login(preparer)

    with django_assert_max_num_queries(9):
        response = client.get(reverse("bank_returns", args=[fund.slug]))

    listed = list(response.context["page"])
    assert len(listed) == returns
    assert {bank_return.problem_count for bank_return in listed} == {1}


@pytest.mark.parametrize("awards", [1, 10])
def test_the_reconciliation_reads_a_bounded_number_of_queries(
    client: Client,
    fund: Fund,
    preparer: User,
    releaser: User,
    capture: Any,
    django_assert_max_num_queries: Any,
    awards: int,
) -> None:
    approved(fund, awards)
    sent(fund, preparer, releaser, capture)
    client.force_login(preparer)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("payments_reconciliation", args=[fund.slug]))

    assert response.status_code == 200


def test_the_application_page_shows_what_became_of_its_transfers(
    client: Client, fund: Fund, preparer: User, releaser: User, capture: Any
) -> None:
    (award,) = approved(fund, 1)
    batch = sent(fund, preparer, releaser, capture)
    report = status_report(batch.reference, [(award.application.reference, "RJCT", "AC04")])
    services.import_bank_return(actor=preparer, fund=fund, file_name="s.xml", content=report)
    client.force_login(member_of(fund, Role.REVIEWER))
    page = client.get(reverse("staff_application", args=[fund.slug, award.application.reference]))
    text = page.content.decode()
    assert batch.reference in text
    assert "AC04" in text
    assert award.payments.get().iban not in text
