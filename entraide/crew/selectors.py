"""Reads of crew relief: a programme's rosters, productions and crew. Crew lists are personal
data: only those who manage the programme read them (never its donor)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from itertools import islice
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.shortcuts import get_object_or_404

from entraide.core.crypto import blind_indexes
from entraide.core.errors import PermissionDenied
from entraide.crew.models import CrewMember, Production, RosterImport
from entraide.crew.roster import StoredPerson
from entraide.programmes import selectors as programme_selectors
from entraide.programmes.models import Programme
from entraide.programmes.permissions import can_manage

# Values per ``IN (…)`` of the roster checks: well within every database's parameter limit.
LOOKUP_CHUNK = 500


def programme_for_crew_staff(user: Any, slug: str) -> Programme:
    """The programme, for those who manage it; 404 if the person may not read it (403 without
    back-office access, as every programme page), 403 for its other readers (the donor)."""
    programme = programme_selectors.programme_for_reader(user, slug)
    if not can_manage(user, programme):
        raise PermissionDenied()
    return programme


def roster_imports(programme: Programme) -> QuerySet[RosterImport]:
    """The programme's roster files, the last imported first, each with ``refused``: how many
    of its lines were left out."""
    return (
        RosterImport.objects.filter(programme=programme)
        .select_related("imported_by")
        .annotate(refused=F("rows") - F("accepted"))
        .order_by("-imported_at", "-pk")
    )


def roster_import_of(programme: Programme, import_id: int) -> RosterImport:
    """One of the programme's roster imports (404 for another programme's)."""
    return get_object_or_404(roster_imports(programme), pk=import_id)


def imported_roster(programme: Programme, sha256: str) -> RosterImport | None:
    """The import of the file with this digest into the programme, if it was imported."""
    return RosterImport.objects.filter(programme=programme, sha256=sha256).first()


def productions_with_crew_count(programme: Programme) -> QuerySet[Production]:
    """The programme's productions, in the order they were suspended, each with
    ``crew_count``."""
    return (
        Production.objects.filter(programme=programme)
        .annotate(crew_count=Count("crew"))
        .order_by("suspended_on", "code", "pk")
    )


def production_of(programme: Programme, production_id: int) -> Production:
    """One of the programme's productions (404 for another programme's)."""
    return get_object_or_404(Production.objects.filter(programme=programme), pk=production_id)


def crew_of(production: Production) -> QuerySet[CrewMember]:
    """The crew of a production, by name."""
    return CrewMember.objects.filter(production=production).order_by(
        "last_name", "first_name", "pk"
    )


def productions_of_roster(roster_import: RosterImport) -> list[Production]:
    """The productions a roster import brought crew to, each with ``crew_count``: how many."""
    return list(
        Production.objects.filter(crew__roster=roster_import)
        .annotate(crew_count=Count("crew", filter=Q(crew__roster=roster_import)))
        .order_by("suspended_on", "code", "pk")
    )


def productions_by_code(programme: Programme, codes: Collection[str]) -> dict[str, Production]:
    """The programme's productions among these references."""
    found: dict[str, Production] = {}
    for chunk in _chunks(codes):
        found.update(
            (production.code, production)
            for production in Production.objects.filter(programme=programme, code__in=chunk)
        )
    return found


def people_on_rosters(
    programme: Programme, person_keys: Collection[str], national_ids: Collection[str]
) -> list[StoredPerson]:
    """The programme's crew members who are one of these people or have one of these national
    identifiers: what a new roster is checked against."""
    fields = ("production__code", "person_key", "production__country", "national_id")
    crew = CrewMember.objects.filter(production__programme=programme)
    rows: set[tuple[str, ...]] = set()
    for chunk in _chunks(person_keys):
        rows.update(crew.filter(person_key__in=chunk).values_list(*fields, "roster__file_name"))
    for chunk in _chunks(national_ids):
        rows.update(
            crew.filter(national_id_index__in=blind_indexes("national_id", chunk)).values_list(
                *fields, "roster__file_name"
            )
        )
    return [StoredPerson(*row) for row in sorted(rows)]


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    iterator = iter(sorted(values))
    while chunk := list(islice(iterator, LOOKUP_CHUNK)):
        yield chunk
