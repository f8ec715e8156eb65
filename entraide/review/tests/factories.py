from __future__ import annotations

import datetime as dt

import factory
from django.conf import settings
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.tests.factories import ApplicationFactory
from entraide.review.models import Assignment, Flag, ReviewLock


class AssignmentFactory(factory.django.DjangoModelFactory[Assignment]):
    class Meta:
        model = Assignment

    application = factory.SubFactory(ApplicationFactory)
    fund = factory.SelfAttribute("application.fund")
    reviewer = factory.SubFactory(UserFactory)
    assigned_at = factory.LazyFunction(timezone.now)


class ReviewLockFactory(factory.django.DjangoModelFactory[ReviewLock]):
    """An unexpired lock; pass ``expires_at`` in the past for an expired one."""

    class Meta:
        model = ReviewLock

    application = factory.SubFactory(ApplicationFactory)
    holder = factory.SubFactory(UserFactory)
    locked_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(
        lambda o: o.locked_at + dt.timedelta(minutes=settings.REVIEW_LOCK_MINUTES)
    )


class FlagFactory(factory.django.DjangoModelFactory[Flag]):
    """An open flag raised by a reviewer."""

    class Meta:
        model = Flag

    application = factory.SubFactory(ApplicationFactory)
    fund = factory.SelfAttribute("application.fund")
    code = "reviewer"
    note = "The payslip looks edited."
    raised_by = factory.SubFactory(UserFactory)
    raised_at = factory.LazyFunction(timezone.now)
