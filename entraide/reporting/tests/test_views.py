"""The attestation pages: the PDFs (rendered in a few tests only), the links to them, the fund's
wording and the public verification."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.funds import ledger
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.reporting import attestations
from entraide.reporting.models import DEFAULT_STATUS_TEXT_EN, Attestation, AttestationSettings
from entraide.reporting.tests.factories import AttestationSettingsFactory
from entraide.reporting.tests.helpers import (
    approved,
    award_of,
    member_of,
    paid,
    pdf_text,
    spaced,
)
from entraide.review import services as review_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def fund() -> Fund:
    fund: Fund = FundFactory(budget=Decimal("100000.00"), name="Fonds Solidarité Plateaux")
    AttestationSettingsFactory(fund=fund)
    return fund


def attestation_url(application: Application, language: str = "") -> str:
    url = reverse("application_attestation", kwargs={"reference": application.reference})
    return f"{url}?lang={language}" if language else url


def staff_url(application: Application) -> str:
    return reverse(
        "staff_application_attestation",
        kwargs={"slug": application.fund.slug, "reference": application.reference},
    )


def verify(client: Client, code: str) -> str:
    return client.get(reverse("attestation_verify"), {"code": code}).content.decode()


def verdict_of(page: str) -> str:
    """The page's answer, up to the form (whose field shows what was typed)."""
    found = re.search(
        r'<div class="message[^"]*" role="status" id="verdict">.*?(?=<form)', page, re.S
    )
    return found.group(0) if found else ""


# -- the PDF -----------------------------------------------------------------------------------


def test_the_applicant_downloads_their_attestation_in_french_by_default(
    client: Client, fund: Fund
) -> None:
    application = approved(fund, first_name="Camille", last_name="Martin", language="fr")
    client.force_login(application.applicant)

    response = client.get(attestation_url(application))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="attestation-{application.reference}.pdf"'
    )
    text = pdf_text(response.content)
    attestation = Attestation.objects.get()
    assert "Fonds Solidarité Plateaux" in text
    assert "Camille Martin" in text
    assert application.reference in text
    assert "1 500,00 €" in text
    assert "2 mars 1985" in text  # the date of birth, in French
    assert "Aide exceptionnelle du fonds, non imposable et non remboursable." in text
    assert "Le service des aides" in text
    assert attestation.code in text
    assert "/attestations/verify/" in text


def test_the_english_attestation_formats_the_amount_and_words_the_grant_in_english(
    client: Client, fund: Fund
) -> None:
    application = approved(fund, language="fr")
    paid(application, sent_at=dt.datetime(2031, 5, 2, 10, tzinfo=dt.UTC))
    client.force_login(application.applicant)

    response = client.get(attestation_url(application, "en"))

    text = pdf_text(response.content)
    assert "€1,500.00" in text
    assert "An exceptional grant of the fund, not taxable and not repayable." in text
    assert "Date of payment May 2, 2031" in text
    assert Attestation.objects.get(status="paid").code in text


def test_a_fund_without_its_own_wording_gets_the_platforms(client: Client) -> None:
    application = approved(FundFactory(), language="en")
    client.force_login(application.applicant)

    text = pdf_text(client.get(attestation_url(application)).content)

    assert spaced(DEFAULT_STATUS_TEXT_EN) in text


def test_no_attestation_while_the_grant_is_not_approved(client: Client, fund: Fund) -> None:
    received = ApplicationFactory(fund=fund)
    rejected = ApplicationFactory(fund=fund, status=Application.Status.REJECTED)
    released = approved(fund)
    ledger.release_award(actor=None, award=award_of(released), note="cancelled")
    admin = member_of(fund, FundRole.Role.OPERATOR_ADMIN)

    for application in (received, rejected, released):
        client.force_login(application.applicant)
        assert client.get(attestation_url(application)).status_code == 404
        client.force_login(admin)
        assert client.get(staff_url(application)).status_code == 404
    assert not Attestation.objects.exists()


def test_another_applicant_gets_404(client: Client, fund: Fund) -> None:
    application = approved(fund)
    client.force_login(ApplicationFactory(fund=fund).applicant)

    assert client.get(attestation_url(application)).status_code == 404
    assert not Attestation.objects.exists()


def test_a_staff_download_is_audited_with_its_language(client: Client, fund: Fund) -> None:
    application = approved(fund)
    auditor = member_of(fund, FundRole.Role.AUDITOR)
    client.force_login(auditor)

    response = client.get(f"{staff_url(application)}?lang=en")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    event = AuditEvent.objects.get(action="attestation.downloaded")
    assert (event.actor, event.fund_id, event.changes["language"]) == (auditor, fund.pk, "en")
    assert event.changes["code"] == Attestation.objects.get().code
    assert AuditEvent.objects.filter(action="attestation.issued", actor=auditor).exists()


# -- the links ---------------------------------------------------------------------------------


def test_the_status_page_links_to_the_attestation_once_the_grant_is_approved(
    client: Client, fund: Fund
) -> None:
    waiting = ApplicationFactory(fund=fund)
    client.force_login(waiting.applicant)
    status = reverse("application_status", kwargs={"reference": waiting.reference})
    assert attestation_url(waiting) not in client.get(status).content.decode()

    application = approved(fund)
    client.force_login(application.applicant)
    page = client.get(reverse("application_status", kwargs={"reference": application.reference}))

    html = page.content.decode()
    assert "Download my attestation (PDF)" in html
    assert f'href="{attestation_url(application)}"' in html
    assert f'href="{attestation_url(application, "en")}"' in html


def test_the_staff_application_page_links_to_the_attestation(client: Client, fund: Fund) -> None:
    application = ApplicationFactory(fund=fund)
    outcome = review_services.approve_application(
        actor=member_of(fund, FundRole.Role.APPROVER),
        application=application,
        amount=fund.standard_amount,
    )
    assert outcome.second_approval is None
    client.force_login(member_of(fund, FundRole.Role.FINANCE))

    page = client.get(
        reverse(
            "staff_application",
            kwargs={"slug": fund.slug, "reference": application.reference},
        )
    )

    assert f'href="{staff_url(application)}"' in page.content.decode()


# -- the fund's wording ------------------------------------------------------------------------


def settings_url(fund: Fund) -> str:
    return reverse("attestation_settings", kwargs={"slug": fund.slug})


WORDING = {
    "status_text_fr": "Aide non imposable, non remboursable (article 81 du CGI).",
    "status_text_en": "Not taxable, not repayable (article 81 of the French tax code).",
    "signatory": "Marie Dupont, directrice",
}


def test_the_operator_admin_rewords_the_attestations_audited(client: Client) -> None:
    fund: Fund = FundFactory()
    admin = member_of(fund, FundRole.Role.OPERATOR_ADMIN)
    client.force_login(admin)
    page = client.get(settings_url(fund))
    assert page.context["form"]["status_text_en"].value() == DEFAULT_STATUS_TEXT_EN
    dashboard = client.get(reverse("fund_dashboard", kwargs={"slug": fund.slug}))
    assert f'href="{settings_url(fund)}"' in dashboard.content.decode()

    response = client.post(settings_url(fund), WORDING)

    assert response.status_code == 302
    saved = AttestationSettings.objects.get(fund=fund)
    assert (saved.status_text_fr, saved.status_text_en, saved.signatory) == tuple(WORDING.values())
    assert saved.updated_by == admin
    event = AuditEvent.objects.get(action="attestation.settings_changed")
    assert (event.actor, event.fund_id) == (admin, fund.pk)
    assert event.changes["signatory"] == {"before": "", "after": "Marie Dupont, directrice"}


def test_a_wording_left_empty_is_refused_keeping_the_input(client: Client, fund: Fund) -> None:
    client.force_login(member_of(fund, FundRole.Role.OPERATOR_ADMIN))

    response = client.post(settings_url(fund), {**WORDING, "status_text_fr": "  "})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["status_text_fr"]
    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    assert "Marie Dupont, directrice" in html
    assert "article 81 of the French tax code" in html
    assert not AuditEvent.objects.filter(action="attestation.settings_changed").exists()


def test_a_specimen_shows_the_wording_typed_without_saving_it(client: Client, fund: Fund) -> None:
    client.force_login(member_of(fund, FundRole.Role.OPERATOR_ADMIN))

    response = client.post(settings_url(fund), {**WORDING, "preview": "fr"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'inline; filename="attestation-specimen-fr.pdf"'
    text = pdf_text(response.content)
    assert "Aide non imposable, non remboursable (article 81 du CGI)." in text
    assert "500,00 €" in text  # the fund's standard grant
    assert AttestationSettings.objects.get(fund=fund).signatory == "Le service des aides"
    assert not Attestation.objects.exists()


# -- verification ------------------------------------------------------------------------------


def test_a_valid_code_shows_what_the_attestation_states_and_nothing_more(
    client: Client, fund: Fund
) -> None:
    application = approved(fund, first_name="Camille", last_name="Martin")
    attestation = attestations.issue_attestation(
        actor=application.applicant, application=application, language="fr"
    )

    page = verify(client, attestation.code.lower())

    answer = verdict_of(page)
    assert "This attestation is valid." in answer
    assert "Fonds Solidarité Plateaux" in answer
    assert "Camille Martin" in answer
    assert "€1,500.00" in answer
    assert "Grant approved" in answer
    for private in (application.nir, application.iban, application.address_line, "1985"):
        assert private not in page


def test_a_superseded_code_says_so_without_the_grants_details(client: Client, fund: Fund) -> None:
    application = approved(fund)
    approval = attestations.issue_attestation(
        actor=application.applicant, application=application, language="fr"
    )
    paid(application)

    answer = verdict_of(verify(client, approval.code))

    assert "This attestation has been superseded." in answer
    assert "Fonds Solidarité Plateaux" in answer
    assert application.last_name not in answer
    assert "1,500" not in answer


def test_unknown_and_malformed_codes_get_the_same_page(client: Client, fund: Fund) -> None:
    application = approved(fund)
    attestations.issue_attestation(
        actor=application.applicant, application=application, language="fr"
    )

    answers = {verdict_of(verify(client, code)) for code in ("0000-0000-0000-0000", "nonsense")}

    assert len(answers) == 1
    assert "No attestation has this code." in answers.pop()


def test_the_verification_page_is_kept_out_of_caches_and_search_engines(client: Client) -> None:
    response = client.get(reverse("attestation_verify"))

    assert response.status_code == 200
    assert 'id="verdict"' not in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex"
