"""``entraide crew import-roster``: JSON lines on stdout, a summary on stderr, and a non-zero
exit with the reason when the file cannot be imported."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.audit.models import AuditEvent
from entraide.crew.models import CrewMember, RosterImport
from entraide.crew.tests.rosters import SAMPLE, crew_row, roster_file
from entraide.programmes.models import Programme, ProgrammeRole
from entraide.programmes.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme() -> Programme:
    programme: Programme = ProgrammeFactory.create(slug="streaming-relief")
    return programme


@pytest.fixture
def manager(programme: Programme) -> User:
    user: User = UserFactory.create(email="manager@example.org")
    ProgrammeRole.objects.create(programme=programme, user=user, role=ProgrammeRole.Role.MANAGER)
    return user


def run(*args: str) -> tuple[list[dict[str, Any]], str]:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command("crew", *args, stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_import_roster_prints_each_problem_then_what_it_did(manager: User, tmp_path: Path) -> None:
    path = tmp_path / "april.csv"
    path.write_bytes(roster_file([crew_row(1), crew_row(2, currency="CHF"), crew_row(3)]))

    *problems, summary = run(
        "import-roster", "streaming-relief", str(path), "--actor", "MANAGER@example.org"
    )[0]

    done = RosterImport.objects.get()
    assert problems == [
        {
            "line": 3,
            "field": "currency",
            "code": "invalid_currency",
            "message": "Not a currency the platform pays in (EUR, GBP, INR, USD).",
        }
    ]
    assert summary == {
        "roster_import": done.pk,
        "file": "april.csv",
        "rows": 3,
        "accepted": 2,
        "refused": 1,
        "refused_not_listed": 0,
    }
    assert done.imported_by == manager
    assert AuditEvent.objects.get(action="crew.roster_imported").actor_id == manager.pk


def test_import_roster_says_what_it_did_on_stderr(manager: User) -> None:
    lines, err = run("import-roster", "streaming-relief", str(SAMPLE), "--actor", manager.email)

    assert lines[-1]["accepted"] == 5
    assert err.strip() == "roster-sample.csv: 5 lines read, 5 kept, none refused"


def test_a_file_imported_before_is_refused_with_a_non_zero_exit(manager: User) -> None:
    run("import-roster", "streaming-relief", str(SAMPLE), "--actor", manager.email)

    with translation.override("en"), pytest.raises(CommandError, match="already imported"):
        call_command("crew", "import-roster", "streaming-relief", str(SAMPLE), "--actor",
                     manager.email, stdout=io.StringIO())  # fmt: skip

    assert CrewMember.objects.count() == 5


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no-such-programme", str(SAMPLE), "--actor", "manager@example.org"], "no programme"),
        (["streaming-relief", "/no/such/file.csv", "--actor", "manager@example.org"],
         "no such file"),
        (["streaming-relief", str(SAMPLE), "--actor", "nobody@example.org"], "no active account"),
        (["streaming-relief", str(SAMPLE), "--actor", "donor@example.org"],
         "You do not have permission to do this."),
    ],
)  # fmt: skip
def test_what_cannot_be_done_is_refused_with_the_reason(
    manager: User, programme: Programme, arguments: list[str], message: str
) -> None:
    donor = UserFactory.create(email="donor@example.org")
    ProgrammeRole.objects.create(programme=programme, user=donor, role=ProgrammeRole.Role.DONOR)

    with translation.override("en"), pytest.raises(CommandError, match=message):
        call_command("crew", "import-roster", *arguments, stdout=io.StringIO())

    assert not RosterImport.objects.exists()


def test_a_file_that_cannot_be_read_is_refused_with_the_reason(
    manager: User, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"name,email\nCamille,c@example.org\n")

    with translation.override("en"), pytest.raises(CommandError, match="Unknown column"):
        call_command("crew", "import-roster", "streaming-relief", str(path), "--actor",
                     manager.email, stdout=io.StringIO())  # fmt: skip
