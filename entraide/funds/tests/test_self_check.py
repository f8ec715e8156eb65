"""The eligibility self-check: no account, the questions of the rules in force, the result with
the criteria that decide it, and the answers kept in the session for the application form."""

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

from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.funds.views import self_check_key
from entraide.rules.tests.factories import NETFLIX_AUDIENS, RuleSetVersionFactory

pytestmark = pytest.mark.django_db

ELIGIBLE = {
    "annual_resources": "14200",
    "profession": "technician",
    "sector_days": "9",
    "rights_ended_2020": "yes",
    "rights_opened_2020": "no",
    "rights_opened_2019": "no",
    "days_sep_feb": "9",
    "benefits_now": "no",
}


def text(response: Any) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def fund() -> Fund:
    fund = FundFactory.create(slug="netflix", name="Netflix × Audiens")
    RuleSetVersionFactory.create(rule_set__fund=fund, source=NETFLIX_AUDIENS)
    return fund


def url(fund: Fund) -> str:
    return reverse("fund_self_check", kwargs={"slug": fund.slug})


def test_the_form_asks_the_rules_questions_without_an_account(client: Client, fund: Fund) -> None:
    response = client.get(url(fund))

    assert response.status_code == 200
    assert list(response.context["form"].fields) == list(ELIGIBLE)
    content = text(response)
    assert "How many days (or cachets) did you work for audiovisual or film production" in content
    assert "Technician" in content
    assert "Artist" in content
    assert "No account is needed, and no identity number is asked." in content
    assert response.context["result"] is None
    assert 'name="nir"' not in response.content.decode()


def test_a_person_who_may_be_eligible_sees_the_amount_and_why(client: Client, fund: Fund) -> None:
    response = client.post(url(fund), ELIGIBLE)

    assert response.status_code == 200
    content = text(response)
    assert "You may be eligible for €900.00, because:" in content
    assert "You worked 9 days in audiovisual or cinema between" in content
    assert "Your Annex 8 or 10 rights ended after 1 January 2020 and were not renewed." in content
    assert "No unemployment benefits are paid to you on" in content  # the exclusion escaped
    assert "Your annual resources (€14,200.00) are at most €15,000; the grant is €900." in content
    assert "You worked 9 days between" not in content  # the branch that did not count
    assert "This is only an estimate from your answers." in content
    assert f'href="{reverse("apply", kwargs={"slug": fund.slug})}"' in response.content.decode()
    assert '<p class="message success" role="status">' in response.content.decode()


def test_a_person_who_is_probably_not_eligible_sees_what_failed(client: Client, fund: Fund) -> None:
    response = client.post(url(fund), {**ELIGIBLE, "benefits_now": "yes"})

    content = text(response)
    assert "You are probably not eligible, because:" in content
    assert "Unemployment benefits are paid to you on" in content
    assert "You worked 9 days in audiovisual" not in content  # passed: not a reason
    assert "This is only an estimate from your answers." in content


def test_the_valid_answers_are_kept_in_the_session_for_the_application(
    client: Client, fund: Fund
) -> None:
    client.post(url(fund), ELIGIBLE)

    assert client.session[self_check_key(fund.slug)] == {
        "annual_resources": "14200.00",
        "profession": "technician",
        "sector_days": 9,
        "days_sep_feb": 9,
        "rights_ended_2020": True,
        "rights_opened_2020": False,
        "rights_opened_2019": False,
        "benefits_now": False,
    }
    assert self_check_key(fund.slug) == "self_check:netflix"
    # coming back, the answers are there again
    again = client.get(url(fund)).content.decode()
    assert 'value="14200.00"' in again
    assert re.search(r'value="yes"[^>]* id="id_rights_ended_2020_0"[^>]* checked', again)


def test_invalid_answers_are_shown_on_their_fields_and_nothing_is_kept(
    client: Client, fund: Fund
) -> None:
    response = client.post(
        url(fund), {**ELIGIBLE, "annual_resources": "-3", "sector_days": "", "profession": "x"}
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {
        "annual_resources": ["Enter a number of at least 0."],
        "profession": ["Select a valid choice. x is not one of the available choices."],
        "sector_days": ["Answer this question."],
    }
    page = response.content.decode()
    assert 'id="id_annual_resources_error"' in page
    assert 'aria-describedby="id_annual_resources_helptext id_annual_resources_error"' in page
    assert 'value="-3"' in page  # what was typed stays
    assert 'href="#id_profession_0"' in page  # the summary reaches the radio group
    assert response.context["result"] is None
    assert self_check_key(fund.slug) not in client.session
    assert "<title>Please correct your answers" in page


def test_answers_in_the_address_are_checked_too(client: Client, fund: Fund) -> None:
    response = client.get(url(fund), ELIGIBLE)
    assert "You may be eligible for €900.00, because:" in text(response)
    # A link carrying answers (perhaps from another site) pre-fills nobody's application.
    assert self_check_key(fund.slug) not in client.session


def test_the_check_is_in_french_for_a_french_reader(client: Client, fund: Fund) -> None:
    response = client.post(url(fund), ELIGIBLE, HTTP_ACCEPT_LANGUAGE="fr")

    content = text(response)
    assert "Combien de jours (ou de cachets) avez-vous travaillé" in content
    assert "Vos droits à l'annexe 8 ou 10 ont pris fin depuis le 1er janvier 2020" in content
    assert "Technicien·ne" in content
    with translation.override("fr"):
        assert gettext("Yes") in content
        assert gettext("This is only an estimate from your answers.")[:20] in content


def test_when_the_fund_is_closed_the_result_says_so_instead_of_offering_to_apply(
    client: Client,
) -> None:
    today = timezone.now().date()
    fund = FundFactory.create(
        opens_on=today - dt.timedelta(days=30), closes_on=today - dt.timedelta(days=2)
    )
    RuleSetVersionFactory.create(rule_set__fund=fund, source=NETFLIX_AUDIENS)

    response = client.post(url(fund), ELIGIBLE)

    assert "Applications closed on" in text(response)
    assert reverse("apply", kwargs={"slug": fund.slug}) not in response.content.decode()


def test_without_rules_in_force_there_is_no_form_but_a_message(client: Client) -> None:
    fund = FundFactory.create()
    RuleSetVersionFactory.create(rule_set__fund=fund, status="draft")

    response = client.get(url(fund))

    assert response.status_code == 200
    assert response.context["form"] is None
    assert "The fund has not published its eligibility rules yet" in text(response)
    assert client.post(url(fund), ELIGIBLE).status_code == 200


def test_an_unknown_fund_is_not_found(client: Client) -> None:
    assert client.get(reverse("fund_self_check", kwargs={"slug": "nope"})).status_code == 404
