"""The public page of a fund: generated from its settings and its rules in force, in French and
in English, with the operator's own texts or default ones; and its editing by the operator."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import (
    FundDocumentRequirementFactory,
    FundFactory,
    FundQuestionFactory,
)
from entraide.funds.window import window_state
from entraide.rules.tests.factories import NETFLIX_AUDIENS, RuleSetVersionFactory

pytestmark = pytest.mark.django_db
Role = FundRole.Role


def text(response: Any) -> str:
    """The page's words as a reader sees them: no tags, entities decoded, runs of spaces
    (no-break ones too) as one."""
    return squash(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def markup(response: Any) -> str:
    return squash(html.unescape(response.content.decode()))


def squash(value: str) -> str:
    return " ".join(value.split())


@pytest.fixture
def fund() -> Fund:
    fund = FundFactory.create(slug="netflix", name="Netflix × Audiens")
    RuleSetVersionFactory.create(rule_set__fund=fund, source=NETFLIX_AUDIENS)
    return fund


def page(client: Client, fund: Fund, language: str = "en") -> Any:
    response = client.get(
        reverse("fund_page", kwargs={"slug": fund.slug}), HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    return response


# -- generated from the rules and the settings ---------------------------------------------------


def test_the_page_lists_the_criteria_as_they_combine_in_english(client: Client, fund: Fund) -> None:
    content = text(page(client, fund))

    assert (
        "Who can receive a grant All of the following: "
        "Intermittent worker of audiovisual or cinema "
        "At least one of the following: Rights not renewed since 1 January 2020 "
        "No opening of rights in 2019 "
        "At least 12 days or cachets between September 2019 and February 2020 "
        "You cannot receive a grant if: Currently receives unemployment benefits"
    ) in content
    assert (
        "Emergency grant: €900.00 if annual resources before any allowance ≤ €15,000.00, "
        "otherwise €500.00" in content
    )


def test_the_page_is_in_french_for_a_french_reader(client: Client, fund: Fund) -> None:
    response = page(client, fund, "fr")
    content = text(response)

    assert '<html lang="fr">' in markup(response)
    assert "Intermittent·e de l'audiovisuel ou du cinéma" in content
    assert "Droits non renouvelés depuis le 1er janvier 2020" in content
    assert "900,00 €" in content
    assert "ressources annuelles avant toute allocation" in content
    with translation.override("fr"):
        assert gettext("Who can receive a grant") in content
        assert squash(window_state(fund).message) in content


def test_the_window_shows_its_dates_times_and_time_zone(client: Client) -> None:
    fund = FundFactory.create(
        opens_on=dt.date(2020, 4, 15),
        opening_time=dt.time(9, 0),
        closes_on=dt.date(2020, 4, 30),
        time_zone="Europe/Paris",
    )

    content = text(page(client, fund))

    assert "Applications open April 15, 2020 at 9:00 AM (Paris time)" in content
    assert "Applications close April 30, 2020 at 11:59 PM (Paris time)" in content
    assert "Applications closed on April 30, 2020 at 11:59 PM (Paris time)." in content
    assert reverse("apply", kwargs={"slug": fund.slug}) not in content


def test_an_open_fund_offers_to_apply_and_to_check_eligibility(client: Client, fund: Fund) -> None:
    content = markup(page(client, fund))

    assert f'href="{reverse("apply", kwargs={"slug": fund.slug})}"' in content
    assert f'href="{reverse("fund_self_check", kwargs={"slug": fund.slug})}"' in content
    assert "Check if I may be eligible" in content
    assert squash(window_state(fund).message).startswith("Applications are open until")


def test_a_fund_not_open_yet_says_when_it_opens(client: Client) -> None:
    today = timezone.now().date()
    fund = FundFactory.create(opens_on=today + dt.timedelta(days=5))
    RuleSetVersionFactory.create(rule_set__fund=fund, source=NETFLIX_AUDIENS)

    content = text(page(client, fund))

    with translation.override("en"):
        assert squash(window_state(fund).message) in content
    assert "Applications open on" in content
    assert reverse("apply", kwargs={"slug": fund.slug}) not in content
    # the rules that will judge applications are already those of the opening day
    assert "Check if I may be eligible" in content


def test_without_rules_the_page_says_so_and_shows_the_standard_grant(client: Client) -> None:
    fund = FundFactory.create(description="For crews of cancelled shoots.")

    content = text(page(client, fund))

    assert "The fund has not published its eligibility rules yet." in content
    assert "Standard grant: €500.00" in content
    assert "For crews of cancelled shoots." in content
    assert "Check if I may be eligible" not in content


def test_who_it_is_for_is_the_operators_summary_else_the_rules_description(
    client: Client,
) -> None:
    fund = FundFactory.create(description="Not this one.")
    RuleSetVersionFactory.create(
        rule_set__fund=fund,
        source=(
            NETFLIX_AUDIENS.replace(
                "version:",
                """description:
  fr: Pour les intermittents de l'audiovisuel.
  en: For intermittent workers of audiovisual.
version:""",
                1,
            )
        ),
    )
    assert "For intermittent workers of audiovisual." in text(page(client, fund))

    fund.summary_fr = "Pour les techniciens.\n\nEt les artistes."
    fund.summary_en = "For technicians.\n\nAnd artists."
    fund.save()
    english, french = markup(page(client, fund)), markup(page(client, fund, "fr"))
    assert "<p>For technicians.</p><p>And artists.</p>" in english
    assert "For intermittent workers of audiovisual." not in english
    assert "<p>Pour les techniciens.</p>" in french


# -- documents, privacy notice, FAQ -------------------------------------------------------------


def test_defaults_name_the_fund_operator_and_contact(client: Client, fund: Fund) -> None:
    fund.operator_name = "Audiens"
    fund.contact_email = "fonds@audiens.example"
    fund.save()

    content = markup(page(client, fund))

    assert (
        "Netflix × Audiens is run by Audiens, who is responsible for the personal data" in content
    )
    assert "write to fonds@audiens.example." in content
    assert "the data protection authority (in France, the CNIL)" in content
    for question in (
        "How is my application checked?",
        "Can I apply twice?",
        "How long until I know?",
        "How am I paid?",
        "What if I made a mistake?",
        "Who can I contact?",
    ):
        assert f"<h3>{question}</h3>" in content
    assert "The fund asks for no document when you apply" in content


def test_the_operators_documents_notice_and_faq_replace_the_defaults(
    client: Client, fund: Fund
) -> None:
    FundDocumentRequirementFactory.create(
        fund=fund, label_en="Bank details", label_fr="RIB", position=2
    )
    FundDocumentRequirementFactory.create(
        fund=fund,
        label_en="Latest France Travail statement",
        label_fr="Dernier relevé France Travail",
        help_en="The one that shows your rights.",
        help_fr="Celui qui montre vos droits.",
        required=False,
        position=1,
    )
    FundQuestionFactory.create(fund=fund, question_en="When is the money paid?")
    fund.privacy_notice_fr = "Notre avis."
    fund.privacy_notice_en = "Our own notice."
    fund.save()

    english, french = markup(page(client, fund)), markup(page(client, fund, "fr"))

    statement = english.index("Latest France Travail statement (optional)")
    assert statement < english.index("Bank details")
    assert "The one that shows your rights." in english
    assert "Dernier relevé France Travail" in french
    assert "Celui qui montre vos droits." in french
    assert "<p>Our own notice.</p>" in english
    assert "CNIL" not in english
    assert "<h3>When is the money paid?</h3>" in english
    assert "Can I apply twice?" not in english


@pytest.mark.parametrize("rows", [1, 12])
def test_the_page_takes_a_fixed_number_of_queries(
    client: Client, fund: Fund, django_assert_max_num_queries: Any, rows: int
) -> None:
    FundDocumentRequirementFactory.create_batch(rows, fund=fund)
    FundQuestionFactory.create_batch(rows, fund=fund)

    with django_assert_max_num_queries(5):
        response = page(client, fund)

    assert text(response).count("Proof ") == rows


def test_an_unknown_fund_is_not_found(client: Client) -> None:
    assert client.get(reverse("fund_page", kwargs={"slug": "nope"})).status_code == 404
