from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import transaction

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.services import (
    AlreadyApplied,
    WindowClosed,
    submit_application,
    transition_application,
)
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, ValidationFailed
from entraide.demo.synthetic import make_nir
from entraide.funds.tests.factories import FundFactory

pytestmark = pytest.mark.django_db
BIRTH = dt.date(1985, 3, 2)


def submission(**overrides: Any) -> dict[str, Any]:
    values = {
        "idempotency_key": uuid.uuid4(),
        "nir": make_nir(random.Random(3), BIRTH, 2),
        "first_name": "Camille",
        "last_name": "Martin",
        "birth_date": BIRTH,
        "profession": "artist",
        "annual_resources": Decimal("14200.00"),
        "consent": True,
    }
    return {**values, **overrides}


def test_submission_is_recorded_audited_and_acknowledged_by_email(
    django_capture_on_commit_callbacks: Any,
) -> None:
    fund, applicant = FundFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        application = submit_application(actor=applicant, fund=fund, **submission())
    assert application.status == Application.Status.RECEIVED
    assert application.reference.startswith("A-")
    event = AuditEvent.objects.get(action="application.submitted")
    assert event.changes["nir"]["after"].startswith("•••• ")
    assert application.nir not in str(event.changes)
    assert len(mail.outbox) == 1
    assert application.reference in mail.outbox[0].subject


def test_nir_is_normalised_before_storage() -> None:
    values = submission()
    spaced = " ".join([values["nir"][:1], values["nir"][1:3], values["nir"][3:]])
    application = submit_application(
        actor=UserFactory(), fund=FundFactory(), **{**values, "nir": spaced}
    )
    assert application.nir == values["nir"]


def test_retrying_a_submission_returns_the_first_application() -> None:
    fund, applicant = FundFactory(), UserFactory()
    values = submission()
    first = submit_application(actor=applicant, fund=fund, **values)
    again = submit_application(actor=applicant, fund=fund, **values)
    assert first == again
    assert Application.objects.count() == 1


def test_one_application_per_person_per_fund() -> None:
    fund = FundFactory()
    values = submission()
    submit_application(actor=UserFactory(), fund=fund, **values)
    with pytest.raises(AlreadyApplied):
        submit_application(
            actor=UserFactory(), fund=fund, **{**values, "idempotency_key": uuid.uuid4()}
        )
    # The same person may apply to another fund.
    submit_application(
        actor=UserFactory(), fund=FundFactory(), **{**values, "idempotency_key": uuid.uuid4()}
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"nir": "185037512345600"}, "nir"),
        ({"birth_date": dt.date(1986, 3, 2)}, "birth_date"),
        ({"consent": False}, "consent"),
    ],
)
def test_invalid_submission_is_refused_on_the_right_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        submit_application(actor=UserFactory(), fund=FundFactory(), **submission(**overrides))
    assert refused.value.field == field
    assert not Application.objects.exists()


def test_submission_outside_the_window_is_refused() -> None:
    fund = FundFactory(opens_on=dt.date(2020, 4, 15), closes_on=dt.date(2020, 4, 30))
    with pytest.raises(WindowClosed):
        submit_application(actor=UserFactory(), fund=fund, **submission())


def test_only_listed_status_transitions_are_allowed() -> None:
    application = submit_application(actor=UserFactory(), fund=FundFactory(), **submission())
    with transaction.atomic():
        transition_application(actor=None, application=application, to_status="under_review")
    with pytest.raises(InvalidTransition), transaction.atomic():
        transition_application(actor=None, application=application, to_status="paid")
    application.refresh_from_db()
    assert application.status == "under_review"
