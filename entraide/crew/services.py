"""Importing a production roster into a programme (the file's format and checks:
:mod:`entraide.crew.roster`, docs/crew.md). The relief runs are in :mod:`entraide.crew.relief`."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.audit import services as audit
from entraide.core.errors import DomainError
from entraide.crew import roster, selectors
from entraide.crew.models import CrewMember, Production, RosterImport
from entraide.programmes import selectors as programme_selectors
from entraide.programmes.models import Programme
from entraide.programmes.permissions import require_manage

INSERT_BATCH = 1000


class RosterAlreadyImported(DomainError):
    code = "already_imported"

    def __init__(self, roster_import: RosterImport) -> None:
        self.roster_import = roster_import
        super().__init__(
            _("This file was already imported into the programme on %(date)s, as %(file)s.")
            % {
                "date": roster_import.imported_at.date().isoformat(),
                "file": roster_import.file_name,
            },
            field="file",
        )


def import_roster(
    *, actor: Any, programme: Programme, file_name: str, content: bytes
) -> RosterImport:
    """Import a roster file into the programme, once (by its SHA-256): its productions, new
    ones created, and the crew of its good lines; each line refused is kept with its reasons
    (the first ``roster.MAX_LISTED_LINES``). Refused as a whole, with nothing kept, when the file
    was imported before (:class:`RosterAlreadyImported`) or cannot be read
    (:class:`roster.RosterFileError`)."""
    require_manage(actor, programme)  # before reading a file of someone refused anyway
    digest = hashlib.sha256(content).hexdigest()
    earlier = selectors.imported_roster(programme, digest)
    if earlier is not None:
        raise RosterAlreadyImported(earlier)
    read = roster.read_roster(content)
    with transaction.atomic(durable=True):
        require_manage(actor, programme)
        # One import of the programme at a time: what is checked below stays true until commit.
        programme_selectors.lock_programme(programme.pk)
        earlier = selectors.imported_roster(programme, digest)
        if earlier is not None:
            raise RosterAlreadyImported(earlier)
        stored = selectors.productions_by_code(programme, read.production_codes)
        checked = read.check(
            roster.Known(
                productions={
                    code: roster.ProductionFacts.of(production)
                    for code, production in stored.items()
                },
                people=selectors.people_on_rosters(programme, read.person_keys, read.national_ids),
            )
        )
        now = timezone.now()
        roster_import = RosterImport.objects.create(
            programme=programme,
            file_name=file_name[:200],
            sha256=digest,
            imported_by=actor,
            imported_at=now,
            rows=read.rows,
            accepted=len(checked.lines),
            problems=[problem.as_dict() for problem in roster.listed(checked.problems)],
        )
        created = _create_productions(programme, checked.lines, stored, now)
        CrewMember.objects.bulk_create(
            [
                _crew_member(roster_import, stored[line.production.code], line)
                for line in checked.lines
            ],
            batch_size=INSERT_BATCH,
        )
        audit.record(
            actor=actor,
            action="crew.roster_imported",
            obj=programme,
            changes={
                "roster_import": roster_import.pk,
                "file": roster_import.file_name,
                "sha256": digest,
                "rows": read.rows,
                "accepted": roster_import.accepted,
                "refused": read.rows - roster_import.accepted,
                "productions_created": created,
            },
        )
    return roster_import


def _create_productions(
    programme: Programme,
    lines: list[roster.CrewLine],
    stored: dict[str, Production],
    now: dt.datetime,
) -> int:
    """Create the productions of the kept lines that the programme does not have yet, added
    to ``stored``; how many were created (a roster names a few)."""
    created = 0
    for line in lines:
        facts = line.production
        if facts.code not in stored:
            stored[facts.code] = Production.objects.create(
                programme=programme,
                code=facts.code,
                title=facts.title,
                country=facts.country,
                currency=facts.currency,
                suspended_on=facts.suspended_on,
                created_at=now,
            )
            created += 1
    return created


def _crew_member(
    roster_import: RosterImport, production: Production, line: roster.CrewLine
) -> CrewMember:
    return CrewMember(
        roster=roster_import,
        production=production,
        line=line.line,
        first_name=line.first_name,
        last_name=line.last_name,
        birth_date=line.birth_date,
        email=line.email,
        national_id=line.national_id,
        role=line.role,
        weekly_rate=line.weekly_rate,
        day_rate=line.day_rate,
        currency=line.production.currency,
        iban=line.iban,
        bic=line.bic,
        account_holder=line.account_holder,
        language=line.language,
        person_key=line.person_key,
    )
