"""Factories of the integrity checks' records: links with evidence written by hand (as the
linkage model writes it), and full checks."""

from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone

from entraide.applications.tests.factories import ApplicationFactory
from entraide.integrity.models import Link, LinkageRun

# Two applications of one person with a typo in the last name and another NIR and e-mail:
# each field's level (entraide.integrity.linkage) and its weight, in log2 of the Bayes factor.
EVIDENCE: list[dict[str, Any]] = [
    {"field": "name", "level": 6, "weight": 7.5},
    {"field": "birth_date", "level": 1, "weight": 5.2},
    {"field": "nir", "level": 0, "weight": -3.5},
    {"field": "iban", "level": 1, "weight": 9.8},
    {"field": "email", "level": 0, "weight": -1.2},
    {"field": "phone", "level": -1, "weight": 0.0},
    {"field": "address", "level": 2, "weight": 4.0},
]


class LinkFactory(factory.django.DjangoModelFactory[Link]):
    """A flagged open link of two applications of one fund sharing a bank account."""

    class Meta:
        model = Link

    left = factory.SubFactory(ApplicationFactory)
    right = factory.SubFactory(ApplicationFactory, fund=factory.SelfAttribute("..left.fund"))
    left_fund = factory.LazyAttribute(lambda o: o.left.fund)
    right_fund = factory.LazyAttribute(lambda o: o.right.fund)
    reasons = factory.LazyFunction(lambda: ["iban"])
    match_weight = 14.2
    match_probability = 0.99994
    evidence = factory.LazyFunction(lambda: [dict(item) for item in EVIDENCE])
    flagged = True
    status = Link.Status.OPEN
    found_at = factory.LazyFunction(timezone.now)
    scored_at = factory.LazyAttribute(lambda o: o.found_at)
    # A decided link is given its ``decided_by``; it was decided when found.
    decided_at = factory.LazyAttribute(
        lambda o: None if o.status == Link.Status.OPEN else o.found_at
    )

    @classmethod
    def _create(cls, model_class: type[Link], *args: Any, **kwargs: Any) -> Link:
        # A link holds its applications lower id first (a database constraint).
        if kwargs["left"].pk > kwargs["right"].pk:
            kwargs["left"], kwargs["right"] = kwargs["right"], kwargs["left"]
            kwargs["left_fund"], kwargs["right_fund"] = kwargs["right_fund"], kwargs["left_fund"]
        return super()._create(model_class, *args, **kwargs)


class LinkageRunFactory(factory.django.DjangoModelFactory[LinkageRun]):
    """A full check that finished with the platform's default model."""

    class Meta:
        model = LinkageRun

    fund = factory.SubFactory("entraide.funds.tests.factories.FundFactory")
    status = LinkageRun.Status.DONE
    requested_at = factory.LazyFunction(timezone.now)
    started_at = factory.LazyAttribute(lambda o: o.requested_at)
    finished_at = factory.LazyAttribute(lambda o: o.requested_at)
    records = 120
    pairs = 3
    links_created = 2
    flags_raised = 4
