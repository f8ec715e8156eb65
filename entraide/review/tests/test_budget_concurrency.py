"""16 reviewers approve 2,000 applications at once against a budget that covers 1,000: exactly
1,000 awards, not a cent over, no application awarded twice, and the rest waiting in order."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone
from stdnum.fr import nir as stdnum_nir

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.funds import ledger
from entraide.funds.models import Award, BudgetEntry, Fund
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review import services
from entraide.review.models import Decision

THREADS = 16
APPLICATIONS = 2000
GRANT = Decimal("500.00")


def _applications(fund: Fund) -> list[Application]:
    """2,000 applications submitted a minute apart, saved in one go."""
    start = timezone.now() - dt.timedelta(days=3)
    built = ApplicationFactory.build_batch(APPLICATIONS, fund=fund, applicant=None)
    owner = FundRoleFactory(fund=fund, role="auditor").user  # any account: they are not read
    nirs = random.Random(11).sample(range(10**6), APPLICATIONS)
    for number, (application, serial) in enumerate(zip(built, nirs, strict=True)):
        application.applicant = owner
        body = f"1850275{serial:06d}"
        application.nir = body + stdnum_nir.calc_check_digits(body)
        application.submitted_at = application.status_changed_at = start + dt.timedelta(
            minutes=number
        )
    return Application.objects.bulk_create(built)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("order", [Fund.AwardOrder.REVIEW, Fund.AwardOrder.SUBMISSION])
def test_concurrent_approvals_never_overspend_and_the_rest_wait_in_order(order: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL's concurrency")
    fund: Fund = FundFactory(
        budget=GRANT * (APPLICATIONS // 2), standard_amount=GRANT, award_order=order
    )
    reviewers = [FundRoleFactory(fund=fund, role="reviewer").user for _ in range(THREADS)]
    applications = _applications(fund)
    shuffled = random.Random(5).sample(applications, len(applications))
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def review(index: int) -> None:
        try:
            barrier.wait()
            for number, application in enumerate(shuffled[index::THREADS]):
                # one in ten twice, by two reviewers: the second approval must be refused
                twice = (reviewers[index], reviewers[(index + 1) % THREADS])
                for actor in twice if number % 10 == 0 else twice[:1]:
                    with contextlib.suppress(services.InvalidTransition):
                        services.approve_application(actor=actor, application=application)
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=review, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    totals = ledger.totals(fund)
    assert totals.committed == totals.credited == GRANT * (APPLICATIONS // 2)
    assert Award.objects.filter(fund=fund, status=Award.Status.RESERVED).count() == 1000
    assert Decision.objects.filter(fund=fund, outcome="approved").count() == 1000
    assert Award.objects.filter(fund=fund).count() == APPLICATIONS  # one each, never two
    entries = list(BudgetEntry.objects.filter(fund=fund).order_by("sequence"))
    assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
    assert all(e.committed <= e.credited for e in entries)
    waiting = list(ledger.waiting(fund).select_related("application"))
    assert len(waiting) == 1000
    if order == Fund.AwardOrder.SUBMISSION:
        expected = sorted(waiting, key=lambda award: award.application.submitted_at)
    else:  # in the order the approvals were made: the order of their audit events
        made: dict[Any, int] = dict(
            AuditEvent.objects.filter(action="award.waitlisted").values_list(
                "object_id", "sequence"
            )
        )
        expected = sorted(waiting, key=lambda award: made[str(award.pk)])
    assert [a.pk for a in waiting] == [a.pk for a in expected]

    # A top-up funds the first 100 in that order, and no more.
    operator = FundRoleFactory(fund=fund, role="operator_admin").user
    ledger.credit_budget(actor=operator, fund=fund, amount=GRANT * 100)
    funded = services.fund_waitlist(actor=operator, fund=fund)
    assert [d.application_id for d in funded] == [a.application_id for a in expected[:100]]
    assert ledger.totals(fund).left == 0
