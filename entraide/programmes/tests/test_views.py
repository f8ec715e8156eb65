"""The programme pages: who reads and acts on each, the roll-up's figures, forms that keep what
was typed, query bounds, and the donor's role never reaching a person's data."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone, translation

from entraide.accounts.models import User
from entraide.accounts.services import create_account
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.money import format_money
from entraide.core.tests.site_urls import site_patterns
from entraide.demo.synthetic import make_iban, make_nir
from entraide.funds import ledger
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.programmes import services
from entraide.programmes.models import (
    Allocation,
    ExchangeRate,
    Programme,
    ProgrammeRole,
    RateImport,
)
from entraide.programmes.tests.factories import ProgrammeFactory
from entraide.reporting.tests.helpers import pdf_text

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 4, 1)
Role = ProgrammeRole.Role


def rate(
    currency: str, value: str, day: dt.date = DAY, source: str = ExchangeRate.Source.ECB
) -> ExchangeRate:
    row: ExchangeRate = ExchangeRate.objects.create(
        day=day, currency=currency, rate=Decimal(value), source=source, recorded_at=timezone.now()
    )
    return row


def operator_account(email: str = "operator@example.org") -> User:
    return create_account(actor=None, email=email, password=None, fund_operator=True)


def en_money(amount: str, currency: str) -> str:
    return format_money(Decimal(amount), currency, locale="en")


def page_text(response: Any) -> str:
    """The page's text with its tags gone and its spaces squashed (money has no-break ones)."""
    html = response.content.decode()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@dataclass
class World:
    """A programme in dollars with a UK fund (pounds) and a French one (euros), the rates of
    DAY, and one person per actor."""

    programme: Programme = field(init=False)
    uk: Fund = field(init=False)
    france: Fund = field(init=False)
    actors: dict[str, User | None] = field(init=False)

    def __post_init__(self) -> None:
        rate("USD", "1.0876")
        rate("GBP", "0.87865")
        self.programme = ProgrammeFactory.create(
            slug="streaming-relief", commitment=Decimal("15000000.00"), currency="USD"
        )
        self.uk = FundFactory.create(
            slug="uk-crew", name="UK crew fund", programme=self.programme, currency="GBP"
        )
        self.france = FundFactory.create(
            slug="fr-crew", name="French crew fund", programme=self.programme, currency="EUR"
        )
        operator = operator_account()
        manager, donor, other_manager = UserFactory.create_batch(3)
        services.grant_programme_role(
            actor=operator, programme=self.programme, user=manager, role=Role.MANAGER
        )
        services.grant_programme_role(
            actor=operator, programme=self.programme, user=donor, role=Role.DONOR
        )
        other = ProgrammeFactory.create(slug="other-programme")
        services.grant_programme_role(
            actor=operator, programme=other, user=other_manager, role=Role.MANAGER
        )
        self.actors = {
            "anonymous": None,
            "applicant": UserFactory.create(),
            "operator": operator,
            "manager": manager,
            "donor": donor,
            "fund_reviewer": FundRoleFactory.create(fund=self.uk, role=FundRole.Role.REVIEWER).user,
            "other_manager": other_manager,
        }

    def user(self, actor: str) -> User:
        user = self.actors[actor]
        assert user is not None
        return user


@pytest.fixture
def world() -> World:
    return World()


# --------------------------------------------------------------------------------------------
# Who gets what
# --------------------------------------------------------------------------------------------

ACTORS = (
    "anonymous",  # ano
    "applicant",  # app: an account, no role
    "operator",  # opr: the "Fund operators" group: every programme, the exchange rates
    "manager",  # mgr: manager of the programme
    "donor",  # don: the programme's donor
    "fund_reviewer",  # rev: reviewer of one of the programme's funds, no programme role
    "other_manager",  # oth: manager of another programme
)
OK, IN, NO, NF, NA = 200, "302 to login", 403, 404, 405

# fmt: off
MATRIX: list[tuple[str, str, tuple[int | str, ...]]] = [
    #                                  ano  app  opr  mgr  don  rev  oth
    ("get",    "programme_list",       (IN,  NO,  OK,  OK,  OK,  OK,  OK)),
    ("post",   "programme_list",       (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    ("get",    "programme_rollup",     (IN,  NO,  OK,  OK,  OK,  NF,  NF)),
    ("post",   "programme_rollup",     (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    ("get",    "programme_reports",    (IN,  NO,  OK,  OK,  OK,  NF,  NF)),
    ("post",   "programme_reports",    (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    ("get",    "programme_donor_report",
                                       (IN,  NO,  OK,  OK,  OK,  NF,  NF)),
    ("post",   "programme_donor_report",
                                       (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    # An empty form: the roll-up again with its errors; the donor reads but is refused.
    ("post",   "programme_allocate",   (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    ("get",    "programme_allocate",   (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    ("post",   "programme_role_grant", (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    ("get",    "programme_role_grant", (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    ("get",    "exchange_rates",       (IN,  NO,  OK,  NO,  NO,  NO,  NO)),
    ("post",   "exchange_rates",       (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    ("post",   "exchange_rates_import",
                                       (IN,  NO,  OK,  NO,  NO,  NO,  NO)),
    ("post",   "exchange_rate_record", (IN,  NO,  OK,  NO,  NO,  NO,  NO)),
]
# fmt: on


def _cases() -> Iterator[Any]:
    for method, name, expectations in MATRIX:
        for actor, expected in zip(ACTORS, expectations, strict=True):
            yield pytest.param(method, name, actor, expected, id=f"{method}-{name}-{actor}")


def _url(name: str, world: World) -> str:
    if name.startswith("programme_") and name != "programme_list":
        return reverse(name, kwargs={"slug": world.programme.slug})
    return reverse(name)


@pytest.mark.parametrize(("method", "name", "actor", "expected"), list(_cases()))
def test_each_actor_gets_the_expected_answer(
    client: Client, world: World, method: str, name: str, actor: str, expected: int | str
) -> None:
    user = world.actors[actor]
    if user is not None:
        client.force_login(user)

    response = getattr(client, method)(_url(name, world))

    if expected == IN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login") + "?next=")
    else:
        assert response.status_code == expected
    assert not Allocation.objects.exists()


def test_the_table_has_every_programme_and_exchange_rate_page() -> None:
    pages = {
        str(pattern.name)
        for pattern in site_patterns(EXCLUDED_URL_PREFIXES)
        if str(pattern.name).startswith(("programme_", "exchange_rate"))
    }
    assert pages == {name for _, name, _ in MATRIX}


def test_a_missing_programme_is_not_found(client: Client, world: World) -> None:
    client.force_login(world.user("operator"))

    response = client.get(reverse("programme_rollup", kwargs={"slug": "no-such-programme"}))

    assert response.status_code == 404


# --------------------------------------------------------------------------------------------
# The list and the staff home
# --------------------------------------------------------------------------------------------


def test_the_list_shows_the_programmes_the_person_may_read_with_what_they_allocated(
    client: Client, world: World
) -> None:
    services.allocate(
        actor=world.user("operator"),
        programme=world.programme,
        fund=world.uk,
        amount=Decimal("2500000.00"),
        day=DAY,
    )
    client.force_login(world.user("donor"))

    response = client.get(reverse("programme_list"))

    assert [p.slug for p in response.context["programmes"]] == ["streaming-relief"]
    text = page_text(response)
    assert en_money("15000000.00", "USD") in text
    assert en_money("2500000.00", "USD") in text
    assert "other-programme" not in response.content.decode()
    assert reverse("exchange_rates") not in response.content.decode()


def test_the_staff_home_lists_the_programmes_and_the_rates_to_operators(
    client: Client, world: World
) -> None:
    client.force_login(world.user("operator"))

    html = client.get(reverse("staff_home")).content.decode()

    assert reverse("programme_rollup", kwargs={"slug": "streaming-relief"}) in html
    assert reverse("programme_rollup", kwargs={"slug": "other-programme"}) in html
    assert reverse("exchange_rates") in html


def test_the_staff_home_of_a_donor_lists_only_its_programme(client: Client, world: World) -> None:
    client.force_login(world.user("donor"))

    response = client.get(reverse("staff_home"))

    assert response.status_code == 200
    assert [p.slug for p in response.context["programmes"]] == ["streaming-relief"]
    assert reverse("exchange_rates") not in response.content.decode()


def test_the_staff_home_of_fund_staff_without_a_programme_says_nothing_of_programmes(
    client: Client, world: World
) -> None:
    client.force_login(world.user("fund_reviewer"))

    html = client.get(reverse("staff_home")).content.decode()

    assert reverse("programme_list") not in html
    assert "streaming-relief" not in html


@pytest.mark.parametrize("n_programmes", [2, 20])
def test_the_list_uses_a_fixed_number_of_queries(
    client: Client, db: None, django_assert_max_num_queries: Any, n_programmes: int
) -> None:
    operator = operator_account()
    rate("GBP", "0.87865")
    for _ in range(n_programmes):
        programme = ProgrammeFactory.create()
        fund = FundFactory.create(programme=programme, currency="GBP")
        services.allocate(
            actor=operator, programme=programme, fund=fund, amount=Decimal("10.00"), day=DAY
        )
    client.force_login(operator)

    with django_assert_max_num_queries(6):
        response = client.get(reverse("programme_list"))

    assert len(response.context["programmes"]) == n_programmes


# --------------------------------------------------------------------------------------------
# The roll-up
# --------------------------------------------------------------------------------------------


def _allocate_the_example(world: World) -> None:
    """$2.5M to the UK, $543,800 to France, $1M to crew relief; £1,615.76 granted in the UK."""
    operator = world.user("operator")
    for fund, amount in (
        (world.uk, "2500000.00"),
        (world.france, "543800.00"),
        (None, "1000000.00"),
    ):
        services.allocate(
            actor=operator,
            programme=world.programme,
            fund=fund,
            amount=Decimal(amount),
            day=DAY,
            note="First tranche",
        )
    granted = ApplicationFactory.create(fund=world.uk, status=Application.Status.APPROVED)
    ApplicationFactory.create(fund=world.uk)
    ledger.place_award(
        actor=operator, fund=world.uk, application=granted, amount=Decimal("1615.76")
    )


def test_the_rollup_shows_each_funds_figures_in_both_currencies_with_the_rate(
    client: Client, world: World
) -> None:
    _allocate_the_example(world)
    FundFactory.create(name="Spanish fund, not allocated yet", programme=world.programme)
    client.force_login(world.user("manager"))

    response = client.get(reverse("programme_rollup", kwargs={"slug": "streaming-relief"}))

    assert response.status_code == 200
    text = page_text(response)
    assert f"Commitment {en_money('15000000.00', 'USD')}" in text
    assert f"Allocated {en_money('4043800.00', 'USD')}" in text
    assert f"to partner funds {en_money('3043800.00', 'USD')}" in text
    assert f"to crew relief {en_money('1000000.00', 'USD')}" in text
    assert f"Left to allocate {en_money('10956200.00', 'USD')}" in text
    # The UK: $2.5M became £2,019,699.34 at 0.87865 / 1.0876; £1,615.76 committed is $2,000.
    assert (
        "UK crew fund "
        f"{en_money('2500000.00', 'USD')} {en_money('2019699.34', 'GBP')} "
        "1 USD = 0.80787974 GBP "
        f"{en_money('10000.00', 'GBP')} "
        f"{en_money('1615.76', 'GBP')} {en_money('2000.00', 'USD')} "
        f"{en_money('0.00', 'GBP')} {en_money('0.00', 'USD')} 2 1"
    ) in text
    # France: $543,800 is €500,000 at 1 / 1.0876.
    assert (
        f"French crew fund {en_money('543800.00', 'USD')} {en_money('500000.00', 'EUR')} "
        "1 USD = 0.91945568 EUR"
    ) in text
    # Without an allocation: no rate, nothing converted.
    assert (
        f"Spanish fund, not allocated yet {en_money('0.00', 'USD')} — No allocation yet: no rate "
        f"{en_money('10000.00', 'EUR')} {en_money('0.00', 'EUR')} — {en_money('0.00', 'EUR')} — 0 0"
    ) in text
    assert f"Crew relief {en_money('1000000.00', 'USD')} Kept in the programme's currency" in text
    assert (
        f"Total {en_money('4043800.00', 'USD')} — — {en_money('2000.00', 'USD')} "
        f"{en_money('0.00', 'USD')} 2 1"
    ) in text
    # The donor reads; it neither allocates nor sees who did, nor a fund's figures beside the
    # reports' (where small counts are hidden by one rule): exact ones here would undo it.
    client.force_login(world.user("donor"))
    response = client.get(reverse("programme_rollup", kwargs={"slug": "streaming-relief"}))
    text = page_text(response)
    assert (
        "UK crew fund "
        f"{en_money('2500000.00', 'USD')} {en_money('2019699.34', 'GBP')} "
        "1 USD = 0.80787974 GBP "
        f"{en_money('10000.00', 'GBP')} On the programme's reports, small counts hidden"
    ) in text
    assert en_money("1615.76", "GBP") not in text
    assert en_money("2000.00", "USD") not in text
    assert (
        f"Total {en_money('4043800.00', 'USD')} — — On the programme's reports, small counts hidden"
    ) in text
    assert "allocation_form" not in response.context
    assert 'id="allocations"' not in response.content.decode()
    assert "First tranche" not in text


def test_the_rollup_in_french_formats_the_figures_and_the_rates_in_french(
    client: Client, world: World
) -> None:
    _allocate_the_example(world)
    client.force_login(world.user("donor"))

    response = client.get(
        reverse("programme_rollup", kwargs={"slug": "streaming-relief"}),
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    text = page_text(response)
    assert format_money(Decimal("2019699.34"), "GBP", locale="fr").split()[0] in text
    with translation.override("fr"):
        assert (
            translation.gettext("1 %(source)s = %(rate)s %(target)s")
            % {"source": "USD", "rate": "0,80787974", "target": "GBP"}
            in text
        )


def test_managers_see_the_allocations_with_the_rates_read_and_the_people(
    client: Client, world: World
) -> None:
    ExchangeRate.objects.filter(currency="GBP").update(source=ExchangeRate.Source.MANUAL)
    _allocate_the_example(world)
    client.force_login(world.user("manager"))

    response = client.get(reverse("programme_rollup", kwargs={"slug": "streaming-relief"}))

    text = page_text(response)
    assert (
        f"UK crew fund {en_money('2500000.00', 'USD')} {en_money('2019699.34', 'GBP')} "
        "1 USD = 0.80787974 GBP, EUR/USD: ECB reference rate of 2020-04-01; "
        "EUR/GBP: rate of 2020-04-01 recorded by hand operator@example.org First tranche"
    ) in text
    assert (
        f"French crew fund {en_money('543800.00', 'USD')} {en_money('500000.00', 'EUR')} "
        "1 USD = 0.91945568 EUR, ECB reference rate of 2020-04-01"
    ) in text
    assert (
        f"Crew relief {en_money('1000000.00', 'USD')} {en_money('1000000.00', 'USD')} "
        "USD to USD: no conversion."
    ) in text
    assert f"{world.user('manager').email} Programme manager" in text
    assert f"{world.user('donor').email} Donor" in text
    choices = dict(response.context["allocation_form"].fields["fund"].choices)
    assert choices == {
        "": "Choose…",
        str(world.france.pk): "French crew fund (EUR)",
        str(world.uk.pk): "UK crew fund (GBP)",
        "crew": "Crew relief",
    }


@pytest.mark.parametrize("n_funds", [2, 12])
@pytest.mark.parametrize("actor", ["manager", "donor", "operator"])
def test_the_rollup_uses_a_fixed_number_of_queries(
    client: Client, world: World, django_assert_max_num_queries: Any, n_funds: int, actor: str
) -> None:
    operator = world.user("operator")
    for _ in range(n_funds):
        fund = FundFactory.create(programme=world.programme, currency="GBP")
        services.allocate(
            actor=operator, programme=world.programme, fund=fund, amount=Decimal("10.00"), day=DAY
        )
        ApplicationFactory.create(fund=fund)
    client.force_login(world.user(actor))

    with django_assert_max_num_queries(15):
        response = client.get(reverse("programme_rollup", kwargs={"slug": "streaming-relief"}))

    assert len(response.context["rows"]) == n_funds + 2


# --------------------------------------------------------------------------------------------
# Allocating
# --------------------------------------------------------------------------------------------


def _allocation_data(world: World, **overrides: str) -> dict[str, str]:
    return {
        "fund": str(world.uk.pk),
        "amount": "2500000.00",
        "day": DAY.isoformat(),
        "note": "UK partner fund",
        **overrides,
    }


def test_a_manager_allocates_to_a_fund_in_its_currency_and_is_told_at_which_rate(
    client: Client, world: World
) -> None:
    client.force_login(world.user("manager"))

    response = client.post(
        reverse("programme_allocate", kwargs={"slug": "streaming-relief"}),
        _allocation_data(world),
        follow=True,
    )

    allocation = Allocation.objects.get()
    assert (allocation.fund, allocation.amount, allocation.converted_amount) == (
        world.uk,
        Decimal("2500000.00"),
        Decimal("2019699.34"),
    )
    assert allocation.allocated_by == world.user("manager")
    assert allocation.note == "UK partner fund"
    assert response.redirect_chain == [
        (reverse("programme_rollup", kwargs={"slug": "streaming-relief"}) + "#allocations", 302)
    ]
    assert (
        f"{en_money('2500000.00', 'USD')} allocated to UK crew fund: "
        f"{en_money('2019699.34', 'GBP')} at 1 USD = 0.80787974 GBP."
    ) in page_text(response)


def test_a_manager_keeps_money_for_crew_relief(client: Client, world: World) -> None:
    client.force_login(world.user("manager"))

    client.post(
        reverse("programme_allocate", kwargs={"slug": "streaming-relief"}),
        _allocation_data(world, fund="crew", amount="1000000"),
    )

    allocation = Allocation.objects.get()
    assert (allocation.fund, allocation.converted_amount, allocation.converted_currency) == (
        None,
        Decimal("1000000.00"),
        "USD",
    )


def test_more_than_is_left_is_refused_on_the_amount_keeping_the_input(
    client: Client, world: World
) -> None:
    client.force_login(world.user("manager"))

    response = client.post(
        reverse("programme_allocate", kwargs={"slug": "streaming-relief"}),
        _allocation_data(world, amount="15000000.01"),
    )

    assert response.status_code == 200
    form = response.context["allocation_form"]
    assert form.errors == {
        "amount": [f"Only {en_money('15000000.00', 'USD')} of the commitment is left to allocate."]
    }
    html = response.content.decode()
    assert 'id="id_amount_error"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="15000000.01"' in html
    assert 'value="UK partner fund"' in html
    assert f'<option value="{world.uk.pk}" selected>' in html
    assert not Allocation.objects.exists()


def test_a_day_without_a_rate_is_said_on_the_form_keeping_the_input(
    client: Client, world: World
) -> None:
    client.force_login(world.user("manager"))

    response = client.post(
        reverse("programme_allocate", kwargs={"slug": "streaming-relief"}),
        _allocation_data(world, day="2019-01-01"),
    )

    assert response.status_code == 200
    form = response.context["allocation_form"]
    assert form.non_field_errors() == [
        "No exchange rate for USD on 2019-01-01 or in the 7 days before."
    ]
    html = response.content.decode()
    assert 'role="alert"' in html
    assert 'value="2019-01-01"' in html
    assert 'value="2500000.00"' in html
    assert not Allocation.objects.exists()


def test_a_fund_outside_the_programme_cannot_be_chosen(client: Client, world: World) -> None:
    outside = FundFactory.create(currency="GBP")
    client.force_login(world.user("operator"))

    response = client.post(
        reverse("programme_allocate", kwargs={"slug": "streaming-relief"}),
        _allocation_data(world, fund=str(outside.pk)),
    )

    assert response.status_code == 200
    assert list(response.context["allocation_form"].errors) == ["fund"]
    assert not Allocation.objects.exists()


# --------------------------------------------------------------------------------------------
# Giving roles
# --------------------------------------------------------------------------------------------


def test_a_manager_makes_someone_a_donor_by_their_address(client: Client, world: World) -> None:
    newcomer = UserFactory.create(email="newcomer@example.org")
    client.force_login(world.user("manager"))

    response = client.post(
        reverse("programme_role_grant", kwargs={"slug": "streaming-relief"}),
        {"email": " Newcomer@Example.org ", "role": "donor"},
        follow=True,
    )

    assert ProgrammeRole.objects.filter(
        programme=world.programme, user=newcomer, role=Role.DONOR
    ).exists()
    assert response.redirect_chain[-1][0].endswith("#people")
    assert "newcomer@example.org has the role Donor in the programme." in page_text(response)
    assert AuditEvent.objects.filter(
        action="programme_role.granted", changes__user="newcomer@example.org"
    ).exists()


def test_an_address_without_an_account_is_refused_keeping_the_input(
    client: Client, world: World
) -> None:
    client.force_login(world.user("manager"))

    response = client.post(
        reverse("programme_role_grant", kwargs={"slug": "streaming-relief"}),
        {"email": "nobody@example.org", "role": "manager"},
    )

    assert response.status_code == 200
    assert response.context["role_form"].errors == {
        "email": ["No account has this e-mail address."]
    }
    html = response.content.decode()
    assert 'value="nobody@example.org"' in html
    assert '<option value="manager" selected>' in html
    assert 'id="id_email_error"' in html
    assert ProgrammeRole.objects.filter(programme=world.programme).count() == 2


# --------------------------------------------------------------------------------------------
# Exchange rates
# --------------------------------------------------------------------------------------------

ECB_HISTORY = (
    b"Date,USD,JPY,GBP,\n"
    b"2020-04-02,1.0922,118.02,0.87983,\n"
    b"2020-04-01,1.0876,117.26,0.87865,\n"
    b"2020-03-31,oops,118.90,0.88643,\n"
)


def test_the_rates_page_shows_the_latest_rate_of_each_currency_and_the_imports(
    client: Client, world: World
) -> None:
    rate("GBP", "0.88", day=DAY, source=ExchangeRate.Source.MANUAL)
    rate("USD", "1.0922", day=DAY + dt.timedelta(days=1))
    client.force_login(world.user("operator"))

    response = client.get(reverse("exchange_rates"))

    text = page_text(response)
    assert "GBP April 1, 2020 1 EUR = 0.88 GBP Recorded by hand" in text
    assert "GBP April 1, 2020 1 EUR = 0.87865 GBP ECB reference rate" in text
    assert "USD April 2, 2020 1 EUR = 1.0922 USD ECB reference rate" in text
    assert "1 EUR = 1.0876 USD" not in text  # not the latest of the dollar


def test_an_operator_imports_an_ecb_file_and_reads_the_lines_it_could_not(
    client: Client, world: World
) -> None:
    client.force_login(world.user("operator"))
    url = reverse("exchange_rates_import")

    response = client.post(url, {"file": SimpleUploadedFile("eurofxref-hist.csv", ECB_HISTORY)})

    assert response.status_code == 200
    imported = RateImport.objects.get()
    assert (imported.days, imported.rates, imported.imported_by) == (
        3,
        8,
        world.user("operator"),
    )
    text = page_text(response)
    # The world's two rates of those days were stored before: kept as they were.
    assert "eurofxref-hist.csv is imported: 8 rates of 3 days, 6 of them new." in text
    assert "1 line could not be read Line Reason 4 Not a rate for USD: oops." in text
    assert "eurofxref-hist.csv" in text.split("Files imported, the last first")[1]

    again = client.post(url, {"file": SimpleUploadedFile("copy.csv", ECB_HISTORY)})

    assert "This file was already imported (as eurofxref-hist.csv): nothing changed." in (
        page_text(again)
    )
    assert RateImport.objects.count() == 1


def test_a_file_that_is_not_the_ecbs_is_refused_on_the_file_field(
    client: Client, world: World
) -> None:
    client.force_login(world.user("operator"))

    response = client.post(
        reverse("exchange_rates_import"),
        {"file": SimpleUploadedFile("people.csv", b"name,email\nCamille,c@example.org\n")},
    )

    assert response.status_code == 200
    assert response.context["file_form"].errors == {
        "file": ["This is not a file of the ECB's reference rates (CSV or XML)."]
    }
    assert 'id="id_file_error"' in response.content.decode()
    assert not RateImport.objects.exists()


def test_an_operator_records_a_rate_by_hand(client: Client, world: World) -> None:
    client.force_login(world.user("operator"))

    response = client.post(
        reverse("exchange_rate_record"),
        {"currency": "INR", "day": "2020-04-01", "rate": "82.8945", "note": "Bank's rate"},
        follow=True,
    )

    recorded = ExchangeRate.objects.get(currency="INR")
    assert (recorded.rate, recorded.source, recorded.recorded_by) == (
        Decimal("82.894500"),
        ExchangeRate.Source.MANUAL,
        world.user("operator"),
    )
    assert response.redirect_chain == [(reverse("exchange_rates") + "#manual", 302)]
    text = page_text(response)
    assert "The rate of April 1, 2020 is recorded: 1 EUR = 82.8945 INR." in text
    assert "Rates recorded by hand, the last first" in text
    assert AuditEvent.objects.filter(action="rate.recorded").exists()


def test_a_rate_by_hand_without_a_reason_is_refused_keeping_the_input(
    client: Client, world: World
) -> None:
    client.force_login(world.user("operator"))

    response = client.post(
        reverse("exchange_rate_record"),
        {"currency": "INR", "day": "2020-04-01", "rate": "82.8945", "note": "  "},
    )

    assert response.status_code == 200
    assert list(response.context["manual_form"].errors) == ["note"]
    html = response.content.decode()
    assert 'value="82.8945"' in html
    assert '<option value="INR" selected>' in html
    assert not ExchangeRate.objects.filter(currency="INR").exists()


@pytest.mark.parametrize("n", [2, 30])
def test_the_rates_page_uses_a_fixed_number_of_queries(
    client: Client, db: None, django_assert_max_num_queries: Any, n: int
) -> None:
    operator = operator_account()
    for number in range(n):
        RateImport.objects.create(
            file_name=f"eurofxref-{number}.csv",
            sha256=f"{number:064d}",
            imported_by=operator,
            imported_at=timezone.now(),
        )
        for currency in ("USD", "GBP", "INR"):
            rate(currency, "1.5", day=DAY - dt.timedelta(days=number))
            rate(currency, "1.6", DAY - dt.timedelta(days=number), ExchangeRate.Source.MANUAL)
    client.force_login(operator)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("exchange_rates"))

    assert len(response.context["latest"]) == 6
    assert len(response.context["page"]) == n


# --------------------------------------------------------------------------------------------
# The donor never reads a person's data
# --------------------------------------------------------------------------------------------

# Where the donor may land (200), among every page of the site: the public pages and its own
# (as anyone with an account, it may apply), and its programme's. A new page that a donor
# reaches belongs here once it is known to show no one's data.
DONOR_PAGES = {
    "home",
    "fund_page",
    "fund_self_check",
    "attestation_verify",
    "apply_step",
    "my_applications",
    "staff_home",
    "programme_list",
    "programme_rollup",
    "programme_reports",
    "programme_donor_report",
    # The fund's privacy notice, the donor's own data (a ZIP archive), the health check.
    "fund_privacy_notice",
    "my_data_download",
    "healthz",
}
EXCLUDED_URL_PREFIXES = ("accounts/", "i18n/", "admin/", "api/")


def _kwargs_for(pattern: URLPattern, world: World, application: Application) -> dict[str, Any]:
    """Arguments for a page of the site: the world's programme or fund, the application."""
    values: dict[str, Any] = {
        "slug": world.programme.slug
        if str(pattern.name).startswith(("programme_", "crew_"))
        else world.uk.slug,
        "reference": application.reference,
        "step": "identity",
        "kind": "approved",
        "language": "fr",
        "partner": "partner",
        "task_id": "00000000-0000-0000-0000-000000000000",
    }
    converters = pattern.pattern.converters
    return {name: values.get(name, application.pk) for name in converters}


def _text_of(response: Any) -> str:
    """The text a page or a download shows: a PDF's text, each file of a ZIP archive."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    content_type = response["Content-Type"].split(";")[0]
    if content_type == "application/pdf":
        return pdf_text(content)
    if content_type == "application/zip":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(
                archive.read(name).decode(errors="replace") for name in archive.namelist()
            )
    return str(content.decode())


def test_the_donor_sees_no_personal_data_on_any_page_it_can_reach(
    client: Client, world: World
) -> None:
    _allocate_the_example(world)
    rng = random.Random(20)
    application = ApplicationFactory.create(
        fund=world.uk,
        first_name="Zéphyrine",
        last_name="Quintavalle-Brisebois",
        email="zephyrine.quintavalle@example.org",
        applicant=UserFactory.create(email="zq-account@example.org"),
        nir=make_nir(rng, dt.date(1979, 6, 14), 2),
        iban=make_iban(rng),
        account_holder="Zéphyrine Quintavalle-Brisebois",
        phone="+33 6 98 76 54 32",
        status=Application.Status.APPROVED,
    )
    ledger.place_award(
        actor=world.user("operator"),
        fund=world.uk,
        application=application,
        amount=Decimal("800.00"),
    )
    personal = {
        "Zéphyrine",
        "Quintavalle",
        "zephyrine.quintavalle@example.org",
        "zq-account@example.org",
        application.reference,
        application.nir,
        application.iban,
        "98765432",
    }
    # The values are shown to the fund's staff: they would show if a donor's page leaked them.
    reviewer = Client(HTTP_ACCEPT_LANGUAGE="en")
    reviewer.force_login(world.user("fund_reviewer"))
    staff_page = reviewer.get(
        reverse(
            "staff_application", kwargs={"slug": world.uk.slug, "reference": application.reference}
        )
    ).content.decode()
    assert "Quintavalle-Brisebois" in staff_page
    assert application.reference in staff_page

    client.force_login(world.user("donor"))
    reached = set()
    for pattern in site_patterns(EXCLUDED_URL_PREFIXES):
        url = reverse(str(pattern.name), kwargs=_kwargs_for(pattern, world, application))
        response = client.get(url)
        if response.status_code != 200:
            continue
        reached.add(pattern.name)
        body = _text_of(response)
        squashed = "".join(body.split())
        for value in personal:
            assert value not in body, f"{value} on {url}"
            assert "".join(value.split()) not in squashed, f"{value} on {url}"
    assert reached == DONOR_PAGES
