"""What an operator must never see: a NIR or an IBAN in clear in a database dump."""

from __future__ import annotations

import pytest
from django.db import connection

from entraide.applications.models import Application
from entraide.crew.models import CrewMember
from entraide.demo.seed import seed_demo
from entraide.evidence.models import EmployerDeclaration
from entraide.payments.models import Payment


def every_cell() -> list[str]:
    """Every value of every table, as a dump would write it."""
    quote = connection.ops.quote_name
    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        cells.append(bytes(value).decode("latin-1"))
                    elif value is not None:
                        cells.append(str(value))
    return cells


@pytest.mark.django_db(transaction=True)
def test_the_demo_database_holds_no_nir_iban_or_national_id_in_clear() -> None:
    seed_demo(applicants=12, decided=4, uk_applicants=6)
    secrets = {
        *Application.objects.values_list("nir", flat=True),
        *Application.objects.values_list("iban", flat=True),
        *CrewMember.objects.exclude(national_id="").values_list("national_id", flat=True),
        *CrewMember.objects.values_list("iban", flat=True),
        *Payment.objects.values_list("iban", flat=True),
    }
    # Crew grants' identifiers are pseudonymous keys of our own, not a person's number.
    secrets = {value for value in secrets if value and not value.startswith("C")}
    assert len(secrets) > 20
    assert EmployerDeclaration.objects.exists()  # the evidence is in the dump too

    dump = "\n".join(every_cell())

    found = sorted(value for value in secrets if value in dump)
    assert found == [], f"{len(found)} identifiers in clear, e.g. {found[:3]}"
