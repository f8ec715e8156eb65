"""Keyset pages: walking back and forth never skips nor repeats a row, even as rows arrive."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.keyset import page_of
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory, FundRoleFactory

NEWEST_FIRST = ("submitted_at", "id")


def submitted(fund: Fund, minutes: int) -> Application:
    application: Application = ApplicationFactory(
        fund=fund, submitted_at=timezone.now() - dt.timedelta(minutes=minutes)
    )
    return application


@pytest.mark.django_db
def test_going_back_shows_the_page_before_even_when_newer_rows_arrived() -> None:
    fund: Fund = FundFactory()
    older = [submitted(fund, minutes) for minutes in range(70, 0, -10)]  # oldest first
    applications = Application.objects.filter(fund=fund)

    def page(**where: str) -> list[int]:
        found = page_of(applications, NEWEST_FIRST, descending=True, size=3, **where)
        return [row.pk for row in found]

    first = page_of(applications, NEWEST_FIRST, descending=True, size=3)
    assert [row.pk for row in first] == [a.pk for a in older[::-1][:3]]
    second = page_of(applications, NEWEST_FIRST, descending=True, size=3, after=first.next_cursor)
    assert [row.pk for row in second] == [a.pk for a in older[::-1][3:6]]
    newest = [submitted(fund, 0), submitted(fund, 0)]  # two arrive at the top meanwhile
    back = page_of(
        applications, NEWEST_FIRST, descending=True, size=3, before=second.previous_cursor
    )
    assert [row.pk for row in back] == [row.pk for row in first]  # not the new top
    assert back.has_previous
    assert set(page(before=back.previous_cursor)) == {a.pk for a in newest}


@pytest.mark.django_db
def test_the_previous_link_goes_by_the_cursor(client: Client) -> None:
    fund: Fund = FundFactory()
    for minutes in range(60):
        submitted(fund, minutes)
    client.force_login(FundRoleFactory(fund=fund, role="reviewer").user)
    url = reverse("application_list", kwargs={"slug": fund.slug})
    first = client.get(url)
    second = client.get(f"{url}?after={first.context['page'].next_cursor}&page=2")
    assert "before=" in second.content.decode().split('rel="prev"')[0].rsplit("<a", 1)[1]
