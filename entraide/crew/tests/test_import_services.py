"""Importing a roster into a programme: what is stored, what is refused and why, once per
file, the same person across rosters, who may import, and the audit event."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from entraide.accounts.models import User
from entraide.accounts.services import create_account
from entraide.accounts.tests.factories import UserFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import PermissionDenied
from entraide.crew import roster
from entraide.crew.models import CrewMember, Production, RosterImport
from entraide.crew.roster import RosterFileError
from entraide.crew.services import RosterAlreadyImported, import_roster
from entraide.crew.tests.factories import ProductionFactory
from entraide.crew.tests.rosters import HEADER, SAMPLE, crew_row, roster_file
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.programmes import services as programme_services
from entraide.programmes.models import Programme, ProgrammeRole
from entraide.programmes.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator() -> User:
    return create_account(
        actor=None, email="operator@example.org", password=None, fund_operator=True
    )


@pytest.fixture
def programme() -> Programme:
    programme: Programme = ProgrammeFactory.create(slug="streaming-relief")
    return programme


def _role(operator: User, programme: Programme, role: str) -> User:
    user: User = UserFactory.create()
    programme_services.grant_programme_role(
        actor=operator, programme=programme, user=user, role=role
    )
    return user


@pytest.fixture
def manager(operator: User, programme: Programme) -> User:
    return _role(operator, programme, ProgrammeRole.Role.MANAGER)


def test_a_roster_creates_its_productions_and_crew_with_an_audit_event(
    manager: User, programme: Programme
) -> None:
    done = import_roster(
        actor=manager,
        programme=programme,
        file_name="roster-sample.csv",
        content=SAMPLE.read_bytes(),
    )

    assert (done.file_name, done.rows, done.accepted, done.problems) == (
        "roster-sample.csv",
        5,
        5,
        [],
    )
    assert done.imported_by == manager
    productions = {p.code: p for p in Production.objects.filter(programme=programme)}
    assert set(productions) == {"SER-2020-01", "FILM-UK-07"}
    uk = productions["FILM-UK-07"]
    assert (uk.title, uk.country, uk.currency, uk.suspended_on) == (
        "Northern Line",
        "GB",
        "GBP",
        dt.date(2020, 3, 17),
    )
    elodie = CrewMember.objects.get(production__code="SER-2020-01", first_name="Élodie")
    assert (elodie.roster, elodie.line, elodie.national_id, elodie.iban) == (
        done,
        2,
        "284028063517935",
        "FR7610278060416419126461086",
    )
    assert (elodie.weekly_rate, elodie.day_rate, elodie.currency) == (
        Decimal("1450.00"),
        None,
        "EUR",
    )
    # Without her national identifier on the other production: the same person.
    assert CrewMember.objects.get(production=uk, last_name="MENARD").person_key == (
        elodie.person_key
    )
    event = AuditEvent.objects.get(action="crew.roster_imported")
    assert (event.object_type, event.object_id, event.actor_id) == (
        "programmes.programme",
        str(programme.pk),
        manager.pk,
    )
    assert event.changes == {
        "roster_import": done.pk,
        "file": "roster-sample.csv",
        "sha256": done.sha256,
        "rows": 5,
        "accepted": 5,
        "refused": 0,
        "productions_created": 2,
    }


def test_the_audit_event_holds_no_personal_data(manager: User, programme: Programme) -> None:
    import_roster(
        actor=manager, programme=programme, file_name="r.csv", content=SAMPLE.read_bytes()
    )

    body = str(AuditEvent.objects.get(action="crew.roster_imported").changes)

    for value in ("Ménard", "Benali", "284028063517935", "FR7610278060416419126461086", "1450"):
        assert value not in body


def test_bad_lines_are_refused_with_their_reasons_and_the_good_ones_kept(
    manager: User, programme: Programme
) -> None:
    rows = [crew_row(1), crew_row(2, iban="FR00 1234"), crew_row(3), crew_row(1, role="Chef")]

    with translation.override("en"):
        done = import_roster(
            actor=manager, programme=programme, file_name="r.csv", content=roster_file(rows)
        )

    assert (done.rows, done.accepted) == (4, 2)
    assert [(p["line"], p["field"], p["code"]) for p in done.problems] == [
        (3, "iban", "invalid_iban"),
        (5, "", "person_repeated"),
    ]
    assert done.problems[1]["message"] == (
        "This person is already on this production's roster, on line 2."
    )
    assert list(CrewMember.objects.order_by("line").values_list("line", flat=True)) == [2, 4]
    assert AuditEvent.objects.get(action="crew.roster_imported").changes["refused"] == 2


def test_a_roster_whose_lines_are_all_refused_is_kept_with_its_reasons(
    manager: User, programme: Programme
) -> None:
    done = import_roster(
        actor=manager,
        programme=programme,
        file_name="r.csv",
        content=roster_file([crew_row(1, currency="CHF")]),
    )

    assert (done.rows, done.accepted, len(done.problems)) == (1, 0, 1)
    assert not Production.objects.exists()


def test_the_same_file_twice_is_refused_as_a_whole(manager: User, programme: Programme) -> None:
    content = roster_file([crew_row(1)])
    first = import_roster(actor=manager, programme=programme, file_name="a.csv", content=content)

    with translation.override("en"), pytest.raises(RosterAlreadyImported) as raised:
        import_roster(actor=manager, programme=programme, file_name="b.csv", content=content)

    assert raised.value.roster_import == first
    assert raised.value.field == "file"
    assert str(raised.value) == (
        f"This file was already imported into the programme on "
        f"{first.imported_at.date().isoformat()}, as a.csv."
    )
    assert RosterImport.objects.count() == 1
    assert CrewMember.objects.count() == 1


def test_the_same_file_may_be_imported_into_another_programme(
    operator: User, programme: Programme
) -> None:
    content = roster_file([crew_row(1)])
    other: Programme = ProgrammeFactory.create()
    import_roster(actor=operator, programme=programme, file_name="a.csv", content=content)

    import_roster(actor=operator, programme=other, file_name="a.csv", content=content)

    assert CrewMember.objects.filter(production__programme=other).count() == 1


@pytest.mark.parametrize(
    "content",
    [b"", roster_file([crew_row(1)], header=[c for c in HEADER if c != "iban"])],
    ids=["empty", "missing-column"],
)
def test_a_file_that_cannot_be_read_leaves_nothing(
    manager: User, programme: Programme, content: bytes
) -> None:
    with pytest.raises(RosterFileError):
        import_roster(actor=manager, programme=programme, file_name="r.csv", content=content)

    assert not RosterImport.objects.exists()
    assert not AuditEvent.objects.filter(action="crew.roster_imported").exists()


def test_a_later_roster_is_checked_against_the_stored_crew_and_productions(
    manager: User, programme: Programme
) -> None:
    import_roster(
        actor=manager, programme=programme, file_name="march.csv", content=SAMPLE.read_bytes()
    )
    stored = Production.objects.get(code="SER-2020-01")
    rows = [
        # Karim Benali again on the same production, without his identifier: refused.
        crew_row(1, production="SER-2020-01", title="Les Nuits de Marseille",
                 first_name="KARIM", last_name="benali", birth_date="30/11/1979",
                 national_id=""),
        # Another title for the stored production: refused.
        crew_row(2, production="SER-2020-01", title="Autre"),
        # Élodie Ménard's NIR for someone else: refused.
        crew_row(3, production="NEW-1", national_id="284028063517935", birth_date="1984-02-20"),
        # A new production with new people: kept.
        crew_row(4, production="NEW-1"),
        # Élodie Ménard on a third production: kept, as the same person.
        crew_row(5, production="NEW-1", first_name="Elodie", last_name="Menard",
                 birth_date="1984-02-11", national_id="284028063517935"),
    ]  # fmt: skip

    with translation.override("en"):
        done = import_roster(
            actor=manager, programme=programme, file_name="april.csv", content=roster_file(rows)
        )

    assert [(p["line"], p["field"], p["code"]) for p in done.problems] == [
        (2, "", "person_repeated_stored"),
        (3, "title", "production_differs_stored"),
        (4, "national_id", "national_id_of_other_stored"),
    ]
    assert done.problems[0]["message"] == (
        "This person is already on this production's roster, imported from march.csv."
    )
    assert Production.objects.get(code="SER-2020-01") == stored
    assert Production.objects.filter(programme=programme).count() == 3
    elodie = CrewMember.objects.filter(first_name__in=["Élodie", "Elodie"])
    assert elodie.count() == 3
    assert len({member.person_key for member in elodie}) == 1


def test_a_production_of_another_programme_is_another_production(
    manager: User, programme: Programme
) -> None:
    ProductionFactory.create(code="PROD-1", title="Elsewhere", currency="USD")

    done = import_roster(
        actor=manager, programme=programme, file_name="r.csv", content=roster_file([crew_row(1)])
    )

    assert done.accepted == 1
    assert Production.objects.filter(code="PROD-1").count() == 2


def test_bank_details_are_stored_compact_in_capitals(manager: User, programme: Programme) -> None:
    iban = crew_row(1)["iban"]
    spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)).lower()

    import_roster(
        actor=manager,
        programme=programme,
        file_name="r.csv",
        content=roster_file([crew_row(1, iban=spaced, bic="agri frpp xxx")]),
    )

    member = CrewMember.objects.get()
    assert (member.iban, member.bic) == (iban, "AGRIFRPPXXX")


def test_an_operator_may_import(operator: User, programme: Programme) -> None:
    done = import_roster(
        actor=operator, programme=programme, file_name="r.csv", content=roster_file([crew_row(1)])
    )

    assert done.accepted == 1


@pytest.mark.parametrize("who", ["donor", "other_manager", "fund_reviewer", "nobody"])
def test_only_those_who_manage_the_programme_may_import(
    operator: User, programme: Programme, who: str
) -> None:
    if who == "donor":
        actor = _role(operator, programme, ProgrammeRole.Role.DONOR)
    elif who == "other_manager":
        actor = _role(operator, ProgrammeFactory.create(), ProgrammeRole.Role.MANAGER)
    elif who == "fund_reviewer":
        fund = FundFactory.create(programme=programme)
        actor = FundRoleFactory.create(fund=fund, role=FundRole.Role.REVIEWER).user
    else:
        actor = UserFactory.create()

    with pytest.raises(PermissionDenied):
        import_roster(
            actor=actor, programme=programme, file_name="r.csv", content=roster_file([crew_row(1)])
        )

    assert not RosterImport.objects.exists()


def test_only_the_problems_of_the_first_lines_refused_are_kept(
    manager: User, programme: Programme, monkeypatch: Any
) -> None:
    monkeypatch.setattr(roster, "MAX_LISTED_LINES", 3)
    rows = [crew_row(n, currency="CHF") for n in range(1, 6)]

    done = import_roster(
        actor=manager, programme=programme, file_name="r.csv", content=roster_file(rows)
    )

    assert (done.rows, done.accepted) == (5, 0)
    assert [p["line"] for p in done.problems] == [2, 3, 4]


def test_a_roster_is_imported_in_a_bounded_number_of_queries(
    manager: User, programme: Programme, django_assert_max_num_queries: Any
) -> None:
    rows = [crew_row(n, production=f"PROD-{n % 3}") for n in range(1, 301)]
    content = roster_file(rows)

    with django_assert_max_num_queries(25):
        done = import_roster(actor=manager, programme=programme, file_name="r.csv", content=content)

    assert done.accepted == 300
    assert CrewMember.objects.count() == 300
