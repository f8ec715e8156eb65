"""The fund's privacy notice, before and while applying."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils.translation import override

from entraide.accounts.tests.factories import UserFactory
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.privacy import notice
from entraide.privacy.tests.factories import FundRetentionPolicyFactory

pytestmark = pytest.mark.django_db


def text_of(sections: list[notice.Section]) -> str:
    return "\n".join(section.heading + "\n" + "\n".join(section.paragraphs) for section in sections)


def test_the_default_notice_is_written_from_the_fund_and_its_retention_policy() -> None:
    fund = FundFactory(operator_name="Audiens Solidarité", contact_email="dpo@example.org")
    FundRetentionPolicyFactory(fund=fund, months_after_payment=18, months_after_refusal=4)
    with override("en"):
        generated = notice.notice_of(fund, "en")
        text = text_of(generated.sections)
    assert not generated.own
    assert "Audiens Solidarité runs" in text
    assert "dpo@example.org" in text
    assert "18 months after its last payment" in text
    assert "4 months after the refusal" in text
    assert "10 years" in text
    assert "art. 6(1)(b)" in text
    assert "CNIL" in text
    assert "donor" not in text  # the fund belongs to no programme


def test_the_operator_s_own_notice_replaces_the_default_in_the_reader_s_language() -> None:
    fund = FundFactory(privacy_notice_fr="Notre avis.\n\nDeux.", privacy_notice_en="Our notice.")
    assert notice.notice_of(fund, "fr").sections[0].paragraphs == ["Notre avis.", "Deux."]
    own = notice.notice_of(fund, "en")
    assert own.own
    assert own.sections[0].paragraphs == ["Our notice."]


def test_the_notice_page_is_public(client: Any) -> None:
    fund = FundFactory(operator_name="Fonds X")
    response = client.get(reverse("fund_privacy_notice", args=[fund.slug]))
    assert response.status_code == 200
    assert "Fonds X" in response.content.decode()


def test_a_crew_relief_fund_has_no_notice_page(client: Any) -> None:
    fund = FundFactory(kind=Fund.Kind.CREW_RELIEF)
    assert client.get(reverse("fund_privacy_notice", args=[fund.slug])).status_code == 404


def test_the_public_page_and_every_step_of_applying_link_to_the_notice(client: Any) -> None:
    fund = FundFactory()
    notice_url = reverse("fund_privacy_notice", args=[fund.slug])
    assert notice_url in client.get(reverse("fund_page", args=[fund.slug])).content.decode()
    client.force_login(UserFactory())
    client.get(reverse("apply", args=[fund.slug]))
    for step in ("identity", "contact", "situation", "bank", "documents", "review"):
        page = client.get(reverse("apply_step", args=[fund.slug, step]))
        assert page.status_code == 200, step
        assert notice_url in page.content.decode(), step
