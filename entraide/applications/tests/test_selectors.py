"""What the back office's lists read: folded names, queues' ids, capped counts, days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from entraide.applications.models import Application
from entraide.applications.search import fold, words_of
from entraide.applications.selectors import (
    ListFilters,
    Queue,
    Sort,
    applications_for_staff,
    queue_ids,
    submissions_per_day,
)
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.errors import PermissionDenied
from entraide.core.keyset import capped_count, capped_counts
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory


@pytest.mark.parametrize(
    ("text", "folded", "words"),
    [
        ("Hélène DUPONT", "helene dupont", ["helene", "dupont"]),
        ("Lefèvre-Cœur", "lefevre-coeur", ["lefevre", "coeur"]),
        ("N'Diaye Straße", "n'diaye strasse", ["n", "diaye", "strasse"]),
        ("Ægir_Østergård Łódź", "aegir_ostergard lodz", ["aegir", "ostergard", "lodz"]),
    ],
)
def test_names_are_folded_as_postgresql_unaccents_them(
    text: str, folded: str, words: list[str]
) -> None:
    assert fold(text) == folded
    assert words_of(text) == words


def test_a_list_is_counted_up_to_the_cap_in_one_query(
    db: None, django_assert_num_queries: object
) -> None:
    fund = FundFactory.create()
    ApplicationFactory.create_batch(4, fund=fund)
    everything = Application.objects.filter(fund=fund)

    with django_assert_num_queries(1):  # type: ignore[operator]
        counts = capped_counts(
            [everything, everything.filter(status="paid"), Application.objects.none()], cap=3
        )

    assert counts == [(3, True), (0, False), (0, False)]
    assert capped_count(everything, cap=4) == (4, False)


def test_the_queue_ids_are_the_first_of_the_list_in_its_order(db: None) -> None:
    fund = FundFactory.create()
    reviewer = FundRoleFactory.create(fund=fund, role=FundRole.Role.REVIEWER).user
    moments = [timezone.now() - dt.timedelta(hours=n) for n in range(4)]
    made = [ApplicationFactory.create(fund=fund, submitted_at=moment) for moment in moments]
    ApplicationFactory.create(fund=fund, status=Application.Status.PAID)

    ids = queue_ids(reviewer, fund, ListFilters(queue=Queue.NEW, sort=Sort.OLDEST), limit=3)

    assert ids == [application.pk for application in made[::-1][:3]]


def test_staff_of_another_fund_are_refused_the_list(db: None) -> None:
    fund = FundFactory.create()
    outsider = FundRoleFactory.create(role=FundRole.Role.OPERATOR_ADMIN).user

    with pytest.raises(PermissionDenied):
        applications_for_staff(outsider, fund)


def test_submissions_per_day_follow_the_funds_clock_across_a_change_of_time(db: None) -> None:
    # Paris moves to summer time on 29 March 2026 (UTC+1 → UTC+2).
    fund = FundFactory.create(
        opens_on=dt.date(2026, 3, 28), closes_on=dt.date(2026, 3, 31), time_zone="Europe/Paris"
    )
    for moment in (
        "2026-03-28T22:59:00+00:00",  # 23:59 on the 28th
        "2026-03-28T23:00:00+00:00",  # 00:00 on the 29th
        "2026-03-29T21:59:00+00:00",  # 23:59 on the 29th (summer time)
        "2026-03-29T22:00:00+00:00",  # 00:00 on the 30th
        "2026-03-31T21:59:00+00:00",  # the window's last minute
        "2026-03-31T22:00:00+00:00",  # after it closed
    ):
        ApplicationFactory.create(fund=fund, submitted_at=dt.datetime.fromisoformat(moment))

    days = submissions_per_day(fund)

    assert days == [
        (dt.date(2026, 3, 28), 1),
        (dt.date(2026, 3, 29), 2),
        (dt.date(2026, 3, 30), 1),
        (dt.date(2026, 3, 31), 1),
    ]
