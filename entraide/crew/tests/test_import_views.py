"""The roster pages: who reads and acts on each, the upload and its refusals, what each page
shows (bank accounts masked), query bounds, and the link from the roll-up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from entraide.accounts.models import User
from entraide.accounts.services import create_account
from entraide.accounts.tests.factories import UserFactory
from entraide.crew import forms as crew_forms
from entraide.crew.models import Production, RosterImport
from entraide.crew.services import import_roster
from entraide.crew.tests.factories import (
    CrewMemberFactory,
    ProductionFactory,
    RosterImportFactory,
)
from entraide.crew.tests.rosters import HEADER, SAMPLE, crew_row, roster_file
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.programmes import services as programme_services
from entraide.programmes.models import Programme, ProgrammeRole
from entraide.programmes.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db
Role = ProgrammeRole.Role


def page_text(response: Any) -> str:
    """The page's text with its tags gone and its spaces squashed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@dataclass
class World:
    """A programme with a roster imported (the documentation's sample), and one person per
    actor."""

    programme: Programme = field(init=False)
    roster_import: RosterImport = field(init=False)
    production: Production = field(init=False)
    actors: dict[str, User | None] = field(init=False)

    def __post_init__(self) -> None:
        self.programme = ProgrammeFactory.create(slug="streaming-relief")
        operator = create_account(
            actor=None, email="operator@example.org", password=None, fund_operator=True
        )
        manager, donor, other_manager = UserFactory.create_batch(3)
        for user, role in ((manager, Role.MANAGER), (donor, Role.DONOR)):
            programme_services.grant_programme_role(
                actor=operator, programme=self.programme, user=user, role=role
            )
        programme_services.grant_programme_role(
            actor=operator,
            programme=ProgrammeFactory.create(),
            user=other_manager,
            role=Role.MANAGER,
        )
        fund = FundFactory.create(programme=self.programme)
        self.actors = {
            "anonymous": None,
            "applicant": UserFactory.create(),
            "operator": operator,
            "manager": manager,
            "donor": donor,
            "fund_reviewer": FundRoleFactory.create(fund=fund, role=FundRole.Role.REVIEWER).user,
            "other_manager": other_manager,
        }
        self.roster_import = import_roster(
            actor=manager,
            programme=self.programme,
            file_name="roster-sample.csv",
            content=SAMPLE.read_bytes(),
        )
        self.production = Production.objects.get(code="SER-2020-01")

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
    "anonymous",
    "applicant",
    "operator",
    "manager",
    "donor",
    "fund_reviewer",
    "other_manager",
)
OK, IN, NO, NF, NA = 200, "302 to login", 403, 404, 405

# fmt: off
MATRIX: list[tuple[str, str, tuple[int | str, ...]]] = [
    #                             ano  app  opr  mgr  don  rev  oth
    ("get",    "crew_rosters",    (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    # An empty form: the page again with its errors.
    ("post",   "crew_rosters",    (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    ("delete", "crew_rosters",    (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    ("get",    "crew_roster",     (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    ("post",   "crew_roster",     (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
    ("get",    "crew_production", (IN,  NO,  OK,  OK,  NO,  NF,  NF)),
    ("post",   "crew_production", (IN,  NA,  NA,  NA,  NA,  NA,  NA)),
]
# fmt: on


def _cases() -> Iterator[Any]:
    for method, name, expectations in MATRIX:
        for actor, expected in zip(ACTORS, expectations, strict=True):
            yield pytest.param(method, name, actor, expected, id=f"{method}-{name}-{actor}")


def _url(name: str, world: World, slug: str = "") -> str:
    kwargs: dict[str, Any] = {"slug": slug or world.programme.slug}
    if name == "crew_roster":
        kwargs["import_id"] = world.roster_import.pk
    elif name == "crew_production":
        kwargs["production_id"] = world.production.pk
    return reverse(name, kwargs=kwargs)


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
    assert RosterImport.objects.count() == 1


@pytest.mark.parametrize("name", ["crew_rosters", "crew_roster", "crew_production"])
def test_a_missing_programme_is_not_found(client: Client, world: World, name: str) -> None:
    client.force_login(world.user("operator"))

    assert client.get(_url(name, world, slug="no-such-programme")).status_code == 404


def test_another_programmes_import_and_production_are_not_found(
    client: Client, world: World
) -> None:
    other = CrewMemberFactory.create()
    client.force_login(world.user("operator"))
    slug = world.programme.slug

    roster_url = reverse("crew_roster", kwargs={"slug": slug, "import_id": other.roster.pk})
    production_url = reverse(
        "crew_production", kwargs={"slug": slug, "production_id": other.production.pk}
    )

    assert client.get(roster_url).status_code == 404
    assert client.get(production_url).status_code == 404


# --------------------------------------------------------------------------------------------
# Uploading a roster
# --------------------------------------------------------------------------------------------


def _upload(client: Client, world: World, content: bytes, name: str = "april.csv") -> Any:
    return client.post(
        reverse("crew_rosters", kwargs={"slug": world.programme.slug}),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def test_a_manager_uploads_a_roster_and_reads_its_refused_lines(
    client: Client, world: World
) -> None:
    client.force_login(world.user("manager"))
    rows = [crew_row(1), crew_row(2, weekly_rate="12,345"), crew_row(3, country="XX")]

    response = _upload(client, world, roster_file(rows))

    done = RosterImport.objects.get(file_name="april.csv")
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "crew_roster", kwargs={"slug": world.programme.slug, "import_id": done.pk}
    )
    page = client.get(response["Location"])
    text = page_text(page)
    assert "april.csv is imported: 1 of 3 lines kept." in text
    assert "Lines read 3 Crew members kept 1 Lines refused 2" in text
    assert (
        "3 weekly_rate Not an amount (digits, with a decimal point or comma and at most 2 "
        "decimals)." in text
    )
    assert "4 country Not a country code (ISO 3166, 2 letters, like FR)." in text
    assert "PROD-1 Les Nuits de Marseille" in text


def test_a_file_that_cannot_be_read_shows_the_form_again_with_the_reason(
    client: Client, world: World
) -> None:
    client.force_login(world.user("manager"))
    content = roster_file([crew_row(1)], header=[c for c in HEADER if c != "iban"])

    response = _upload(client, world, content)

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["Missing column(s): iban."]}
    assert 'id="id_file_error"' in response.content.decode()
    assert RosterImport.objects.count() == 1


def test_a_file_already_imported_is_refused_with_a_link_to_its_import(
    client: Client, world: World
) -> None:
    client.force_login(world.user("manager"))

    response = _upload(client, world, SAMPLE.read_bytes(), name="again.csv")

    assert response.status_code == 200
    (message,) = response.context["form"].errors["file"]
    assert message.startswith("This file was already imported into the programme on ")
    earlier = reverse(
        "crew_roster", kwargs={"slug": world.programme.slug, "import_id": world.roster_import.pk}
    )
    assert f'href="{earlier}"' in response.content.decode()
    assert RosterImport.objects.count() == 1


def test_a_file_beyond_the_limit_is_refused_by_the_form(
    client: Client, world: World, monkeypatch: Any
) -> None:
    content = roster_file([crew_row(1)])
    monkeypatch.setattr(crew_forms, "MAX_ROSTER_BYTES", len(content) - 1)
    client.force_login(world.user("manager"))

    response = _upload(client, world, content)

    assert response.status_code == 200
    assert response.context["form"].errors == {"file": ["This file is too large: at most 0 MB."]}


def test_the_upload_form_is_labelled_and_explained(client: Client, world: World) -> None:
    client.force_login(world.user("manager"))

    html = client.get(_url("crew_rosters", world)).content.decode()

    assert '<label for="id_file">' in html
    assert 'aria-describedby="id_file_helptext"' in html
    assert 'enctype="multipart/form-data"' in html


# --------------------------------------------------------------------------------------------
# What the pages show
# --------------------------------------------------------------------------------------------


def test_the_rosters_page_lists_the_imports_and_the_productions(
    client: Client, world: World
) -> None:
    client.force_login(world.user("operator"))

    text = page_text(client.get(_url("crew_rosters", world)))

    assert "roster-sample.csv" in text
    assert f"{world.user('manager')}" in text
    assert "SER-2020-01 Les Nuits de Marseille FR" in text
    assert "FILM-UK-07 Northern Line GB" in text


def test_the_production_page_shows_the_crew_with_their_accounts_masked(
    client: Client, world: World
) -> None:
    client.force_login(world.user("manager"))

    response = client.get(_url("crew_production", world))

    text = page_text(response)
    html = response.content.decode()
    assert "Ménard Élodie Cheffe électricienne €1,450.00 a week FR76 •••• 1086" in text
    assert "Benali Karim Machiniste €265.50 a day FR76 •••• 0341" in text
    for hidden in ("FR7610278060416419126461086", "284028063517935", "1984", "elodie.menard"):
        assert hidden not in html


def test_the_rollup_links_to_the_rosters_for_managers_only(client: Client, world: World) -> None:
    rosters = _url("crew_rosters", world)
    rollup = reverse("programme_rollup", kwargs={"slug": world.programme.slug})

    client.force_login(world.user("manager"))
    assert f'href="{rosters}"' in client.get(rollup).content.decode()
    client.force_login(world.user("donor"))
    assert f'href="{rosters}"' not in client.get(rollup).content.decode()


# --------------------------------------------------------------------------------------------
# Query bounds
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 60])
def test_the_rosters_page_uses_a_fixed_number_of_queries(
    client: Client, world: World, django_assert_max_num_queries: Any, n: int
) -> None:
    for _ in range(n):
        CrewMemberFactory.create(
            production=ProductionFactory.create(programme=world.programme),
            roster=RosterImportFactory.create(programme=world.programme),
        )
    client.force_login(world.user("manager"))

    with django_assert_max_num_queries(12):
        response = client.get(_url("crew_rosters", world))

    assert response.status_code == 200
    assert len(response.context["imports"]) == min(n + 1, 50)
    assert len(response.context["page"]) == min(n + 2, 50)


@pytest.mark.parametrize("n", [2, 60])
def test_the_production_page_uses_a_fixed_number_of_queries(
    client: Client, world: World, django_assert_max_num_queries: Any, n: int
) -> None:
    CrewMemberFactory.create_batch(n, production=world.production, roster=world.roster_import)
    client.force_login(world.user("manager"))

    with django_assert_max_num_queries(11):
        response = client.get(_url("crew_production", world))

    assert response.status_code == 200
    assert len(response.context["page"]) == min(n + 3, 50)


@pytest.mark.parametrize("n", [2, 120])
def test_the_roster_page_uses_a_fixed_number_of_queries_and_pages_the_refused_lines(
    client: Client, world: World, django_assert_max_num_queries: Any, n: int
) -> None:
    problems = [
        {"line": k, "field": "iban", "code": "invalid_iban", "message": "No."}
        for k in range(2, n + 2)
    ]
    done = RosterImportFactory.create(
        programme=world.programme, rows=n + 1001, accepted=1, problems=problems
    )
    CrewMemberFactory.create(production=world.production, roster=done)
    client.force_login(world.user("manager"))
    url = reverse("crew_roster", kwargs={"slug": world.programme.slug, "import_id": done.pk})

    with django_assert_max_num_queries(10):
        response = client.get(url)

    assert len(response.context["page"]) == min(n, 50)
    assert response.context["unlisted"] == 1000
    assert "1000 more lines were refused: only the first lines refused are listed." in (
        page_text(response)
    )
