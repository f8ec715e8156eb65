"""What we know about a person: the presenter's months and charts, the staff page, who may see
it, its audit event, its number of queries, and its accessibility in a browser."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.tests.conftest import allow_async_unsafe, browser  # noqa: F401 (fixtures)
from entraide.core.tests.test_browser_end_to_end import (
    SCREENSHOT_DIR,
    Visit,
    operator_with_open_fund,
)
from entraide.evidence.presenters import (
    CHART_LEFT,
    CHART_TOP,
    CHART_WIDTH,
    MAX_MONTHS,
    PLOT_HEIGHT,
    TIMELINE_LEFT,
    rights_timeline,
    work_by_month,
    work_charts,
)
from entraide.evidence.tests.factories import (
    BenefitRecordFactory,
    CancellationRecordFactory,
    EmployerDeclarationFactory,
    EvidenceBatchFactory,
    RightsRecordFactory,
)
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.rules.aggregates import compute
from entraide.rules.document import Aggregate, Window
from entraide.rules.records import Declaration, PersonEvidence
from entraide.rules.tests.builders import cachets, contract, day, days, hours, rights

Role = FundRole.Role
# Session, user, fund, role, application, the audit event (with its savepoints, and the chain's
# head made by the first event ever), the person's 4 kinds of records and their batches, the
# header's menu: 24, whatever the number of records.
PAGE_MAX_QUERIES = 24


def series(declarations: list[Declaration], **options: Any) -> list[tuple[dt.date, int, Decimal]]:
    return [(m.month, m.days, m.hours) for m in work_by_month(declarations, **options).months]


# --------------------------------------------------------------------------------------------
# The presenter: work by month
# --------------------------------------------------------------------------------------------


def test_overlapping_contracts_count_their_common_days_once() -> None:
    work = series(
        [
            contract("2020-01-01", "2020-01-10", hours=70),
            contract("2020-01-06", "2020-01-15", hours=70),
        ]
    )

    assert work == [(day("2020-01-01"), 15, Decimal("140"))]


def test_a_contract_across_months_has_days_in_each_and_hours_and_pay_in_its_first() -> None:
    work = work_by_month([contract("2020-01-25", "2020-02-05", hours=80)])

    assert [(m.days, m.hours, m.gross_pay) for m in work.months] == [
        (7, Decimal("80"), Decimal("1000.00")),
        (5, Decimal("0"), Decimal("0")),
    ]


def test_a_cachet_counts_as_one_day_and_twelve_hours() -> None:
    work = series(
        [
            # Three performances over three weeks: three days, not nineteen.
            cachets("2020-03-02", 3, end="2020-03-20"),
            contract("2020-03-25", "2020-03-26", hours=16),
        ]
    )

    assert work == [(day("2020-03-01"), 3 + 2, Decimal(3 * 12 + 16))]


def test_months_without_work_are_zeros() -> None:
    work = work_by_month([days("2020-01-06", 2), hours("2020-04-01", 8)])

    assert [(m.month.month, m.days, m.hours, m.gross_pay) for m in work.months] == [
        (1, 2, Decimal("14"), Decimal("1000.00")),
        (2, 0, Decimal("0"), Decimal("0")),
        (3, 0, Decimal("0"), Decimal("0")),
        (4, 1, Decimal("8"), Decimal("1000.00")),
    ]
    assert not work.capped


def test_only_the_last_36_months_of_records_are_shown_and_the_cap_is_said() -> None:
    old, recent = hours("2015-01-05", 40), days("2020-06-01", 3)

    capped = work_by_month([old, recent])
    exactly = work_by_month([hours("2017-07-01", 8), recent])

    assert capped.capped
    assert len(capped.months) == MAX_MONTHS == 36
    assert (capped.months[0].month, capped.months[-1].month) == (
        day("2017-07-01"),
        day("2020-06-01"),
    )
    assert sum(m.hours for m in capped.months) == Decimal("21")  # the 2015 contract is left out
    assert not exactly.capped
    assert len(exactly.months) == 36


def test_no_contract_gives_no_month_and_no_chart() -> None:
    work = work_by_month([])

    assert work.months == ()
    assert not work.capped
    assert work_charts(work) == []


@given(
    st.lists(
        st.tuples(
            st.dates(dt.date(2019, 1, 1), dt.date(2019, 12, 31)),
            st.integers(0, 60),
            st.one_of(st.none(), st.integers(1, 5)),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_the_months_add_up_to_what_the_rules_find_over_the_same_whole_months(
    drawn: list[tuple[dt.date, int, int | None]],
) -> None:
    declarations = [
        contract(
            start.isoformat(),
            (start + dt.timedelta(days=length)).isoformat(),
            hours="7.5",
            cachets=count,
        )
        for start, length, count in drawn
    ]
    work = work_by_month(declarations)
    window = Window(start=work.months[0].month, end=day("2020-03-31"))
    evidence = PersonEvidence(declarations=tuple(declarations))

    def rule(kind: str) -> Decimal:
        return compute(Aggregate(id=kind, kind=kind, window=window), evidence, window.end)

    assert sum(m.days for m in work.months) == rule("worked_days")
    assert sum(m.hours for m in work.months) == rule("hours")
    assert sum(m.gross_pay for m in work.months) == rule("gross_pay")


def test_the_bars_are_scaled_to_the_busiest_month() -> None:
    work = work_by_month([days("2020-01-01", 20), days("2020-03-01", 10)])

    with translation.override("en"):
        days_chart, hours_chart, pay_chart = work_charts(work)

    assert [bar.height for bar in days_chart.bars] == [PLOT_HEIGHT, 0.0, PLOT_HEIGHT / 2]
    assert days_chart.bars[1].y == CHART_TOP + PLOT_HEIGHT  # an empty month sits on the axis
    assert days_chart.maximum == "20 days"
    assert hours_chart.maximum == "140 h"
    assert pay_chart.maximum == "€1,000.00"
    assert days_chart.bars[0].title == "January 2020: 20 days"
    assert days_chart.description.startswith("From January 2020 to March 2020; highest: 20 days")
    last = days_chart.bars[-1]
    assert CHART_LEFT < days_chart.bars[0].x < last.x + last.width < CHART_WIDTH


def test_the_rights_timeline_places_each_period_on_one_date_axis() -> None:
    with translation.override("en"):
        timeline = rights_timeline(
            [
                rights("8", "2018-01-01", "2018-12-31"),
                rights("10", "2019-01-01", "2019-12-31", status="open", reason="maternity"),
            ]
        )

    assert timeline is not None
    first, second = timeline.rows
    assert (first.annex, first.status, second.status, second.reason) == (
        "Annex 8",
        "Ended",
        "Open",
        "Maternity",
    )
    assert first.x == TIMELINE_LEFT
    assert first.x + first.width == pytest.approx(second.x, abs=0.2)
    assert second.x + second.width == pytest.approx(CHART_WIDTH - 8, abs=0.2)
    assert [label.text for label in timeline.labels] == ["2019"]
    assert rights_timeline([]) is None


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def records_url(application: Application, slug: str | None = None) -> str:
    return reverse(
        "staff_application_records",
        kwargs={"slug": slug or application.fund.slug, "reference": application.reference},
    )


def staff(application: Application, role: str = Role.REVIEWER) -> Any:
    return FundRoleFactory.create(fund=application.fund, role=role).user


def on_file(application: Application) -> None:
    """One record of each kind for the applicant, and one of someone else."""
    nir = application.nir
    batch = EvidenceBatchFactory.create(source="aem-2020-03.csv")
    EmployerDeclarationFactory.create(
        batch=batch,
        nir=nir,
        siret="11111111100012",
        start=dt.date(2020, 1, 6),
        end=dt.date(2020, 1, 10),
        hours=Decimal("40.00"),
        gross_pay=Decimal("1234.50"),
    )
    EmployerDeclarationFactory.create(
        batch=batch, nir=nir, siret="22222222200024", start=dt.date(2020, 3, 2), cachets=2
    )
    EmployerDeclarationFactory.create(nir="299999999999999", siret="99999999900099")
    RightsRecordFactory.create(nir=nir, annex="10", status="refused", reason="illness")
    BenefitRecordFactory.create(nir=nir, scheme="annex8", end=None)
    CancellationRecordFactory.create(nir=nir, siret="33333333300036", date=dt.date(2020, 4, 10))


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.FINANCE, Role.AUDITOR])
def test_staff_of_the_fund_see_contracts_rights_benefits_and_cancellations(
    client: Client, db: None, role: str
) -> None:
    application = ApplicationFactory.create()
    on_file(application)
    client.force_login(staff(application, role))

    response = client.get(records_url(application))

    assert response.status_code == 200
    html = response.content.decode()
    assert "What we know about this person" in html
    assert application.full_name in html
    assert html.index("11111111100012") < html.index("22222222200024")
    assert "99999999900099" not in html  # someone else's contract
    assert "€1,234.50" in html
    for words in ("Annex 10", "Refused", "Long illness", "still paid", "aem-2020-03.csv"):
        assert words in html
    assert "33333333300036" in html
    assert [(line.kind, line.count) for line in response.context["records"].counts] == [
        ("declarations", 2),
        ("rights", 1),
        ("benefits", 1),
        ("cancellations", 1),
    ]
    assert html.count('role="img"') == 4  # three charts of work by month, the rights timeline


def test_the_full_nir_never_appears_only_its_last_four_characters(client: Client, db: None) -> None:
    application = ApplicationFactory.create()
    on_file(application)
    client.force_login(staff(application))

    html = client.get(records_url(application)).content.decode()

    assert application.nir not in html
    assert application.nir[:-4] not in html
    assert f"•••• {application.nir[-4:]}" in html


def test_each_section_says_when_there_is_nothing_on_file(client: Client, db: None) -> None:
    application = ApplicationFactory.create()
    client.force_login(staff(application))

    html = client.get(records_url(application)).content.decode()

    assert "No employer declaration on file." in html
    assert "No rights record on file." in html
    assert "No benefit record on file." in html
    assert "No cancellation on file." in html
    assert "<svg" not in html


def test_the_page_says_when_the_months_are_capped(client: Client, db: None) -> None:
    application = ApplicationFactory.create()
    EmployerDeclarationFactory.create(nir=application.nir, start=dt.date(2015, 1, 5))
    EmployerDeclarationFactory.create(nir=application.nir, start=dt.date(2020, 6, 1))
    client.force_login(staff(application))

    html = client.get(records_url(application)).content.decode()

    assert "show their last 36 months only" in html


def test_the_application_page_links_to_the_persons_records(client: Client, db: None) -> None:
    application = ApplicationFactory.create()
    client.force_login(staff(application))

    response = client.get(
        reverse(
            "staff_application",
            kwargs={"slug": application.fund.slug, "reference": application.reference},
        )
    )

    assert f'href="{records_url(application)}"' in response.content.decode()


def test_viewing_the_records_is_recorded_in_the_audit_log(client: Client, db: None) -> None:
    application = ApplicationFactory.create()
    reviewer = staff(application)
    client.force_login(reviewer)

    client.get(records_url(application))

    event = AuditEvent.objects.get(action="evidence.person_records_viewed")
    assert (event.actor_id, event.fund_id) == (reviewer.pk, application.fund_id)
    assert (event.object_type, event.object_id) == ("applications.application", str(application.pk))


# --------------------------------------------------------------------------------------------
# Who may not see it
# --------------------------------------------------------------------------------------------


def test_staff_of_another_fund_get_404_whatever_their_role_there(client: Client, db: None) -> None:
    application = ApplicationFactory.create()
    on_file(application)
    elsewhere = FundRoleFactory.create(fund=FundFactory.create(), role=Role.OPERATOR_ADMIN)
    client.force_login(elsewhere.user)

    assert client.get(records_url(application)).status_code == 404
    # Nor through their own fund's address with this application's reference.
    assert client.get(records_url(application, slug=elsewhere.fund.slug)).status_code == 404
    assert not AuditEvent.objects.filter(action="evidence.person_records_viewed").exists()


def test_the_applicant_gets_403_on_the_records_about_them(client: Client, db: None) -> None:
    application = ApplicationFactory.create()
    on_file(application)
    client.force_login(application.applicant)

    response = client.get(records_url(application))

    assert response.status_code == 403
    assert application.nir[-4:] not in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client: Client, db: None) -> None:
    application = ApplicationFactory.create()

    response = client.get(records_url(application))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")


# --------------------------------------------------------------------------------------------
# Number of queries
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_records", [1, 150])
def test_the_page_uses_the_same_few_queries_whatever_the_number_of_records(
    client: Client, db: None, django_assert_max_num_queries: Any, n_records: int
) -> None:
    application = ApplicationFactory.create()
    nir = application.nir
    batches = EvidenceBatchFactory.create_batch(3)
    for index in range(n_records):
        start = dt.date(2018, 1, 1) + dt.timedelta(days=7 * index)
        EmployerDeclarationFactory.create(
            batch=batches[index % 3], nir=nir, start=start, cachets=index % 2 or None
        )
        RightsRecordFactory.create(nir=nir, opened_on=start, ends_on=start + dt.timedelta(90))
        BenefitRecordFactory.create(nir=nir, start=start)
        CancellationRecordFactory.create(nir=nir, date=start)
    client.force_login(staff(application))

    with django_assert_max_num_queries(PAGE_MAX_QUERIES):
        response = client.get(records_url(application))

    assert response.status_code == 200
    assert len(response.context["records"].contracts) == n_records


# --------------------------------------------------------------------------------------------
# In a browser, with axe-core
# --------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_reviewer_opens_the_records_from_the_application_and_the_page_is_accessible(
    lang: str,
    browser: Any,  # noqa: F811
    live_server: Any,
) -> None:
    audited: list[str] = []
    operator, fund = operator_with_open_fund("records", lang)
    application = ApplicationFactory.create(fund=fund)
    on_file(application)
    RightsRecordFactory.create(
        nir=application.nir, annex="8", opened_on=dt.date(2020, 2, 1), ends_on=dt.date(2021, 1, 31)
    )

    visit = Visit(browser, live_server.url, lang, audited)
    visit.open_and_switch_language("/accounts/login/")
    visit.log_in(operator.email)
    visit.page.goto(f"/staff/funds/{fund.slug}/applications/{application.reference}/")
    visit.check(rf"/applications/{application.reference}/$")
    visit.follow(visit.t("What we know about this person"), rf"/{application.reference}/records/$")
    assert visit.heading() == visit.t("What we know about this person")
    assert visit.page.locator("main svg[role=img]").count() == 4
    assert application.nir not in visit.page.content()
    if SCREENSHOT_DIR:
        path = Path(SCREENSHOT_DIR) / f"person_records_{lang}.png"
        visit.page.screenshot(path=str(path), full_page=True)
    visit.close()
    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
