"""Factories for rule sets, their versions and the evaluations stored under them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import factory
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds.tests.factories import FundFactory
from entraide.rules.document import read_source
from entraide.rules.models import ApplicationEvaluation, RuleSet, RuleSetVersion

NETFLIX_AUDIENS = (Path(settings.BASE_DIR) / "rulesets" / "netflix-audiens.yaml").read_text(
    encoding="utf-8"
)

# A small fund: at least `min_days` worked days between September 2019 and February 2020, no
# benefit paid on the evaluation date; €900 up to €15,000 of resources, €500 above.
SIMPLE_RULES = """\
# A small fund for the tests.
schema: entraide/rules/1
id: test-fund
name: {fr: Fonds de test, en: Test fund}
version: "v1"
effective_from: 2020-01-01
currency: EUR
parameters:
  min_days: 12
  resources_ceiling: 15000
facts:
  - id: annual_resources
    type: money
    label: {fr: Ressources annuelles, en: Annual resources}
evidence:
  days:
    kind: worked_days
    label: {fr: Jours travaillés, en: Days worked}
    window: {from: 2019-09-01, to: 2020-02-29}
    ask:
      type: count
      label:
        fr: Jours travaillés de septembre à février
        en: Days worked from September to February
  benefits_now:
    kind: benefits
    at: evaluation_date
criteria:
  - id: worked
    label: {fr: A travaillé 12 jours, en: Worked 12 days}
    test: days >= min_days
    explanation:
      pass:
        fr: Vous avez travaillé {days} jours ; {min_days} sont requis.
        en: You worked {days} days; {min_days} are required.
      fail:
        fr: Vous avez travaillé {days} jours ; {min_days} sont requis.
        en: You worked {days} days; {min_days} are required.
  - id: receives_benefits
    label: {fr: Perçoit une allocation, en: Receives benefits}
    test: benefits_now > 0
eligibility: worked
exclusions: [receives_benefits]
amount:
  components:
    - id: grant
      label: {fr: Aide, en: Grant}
      tiers:
        by: annual_resources
        steps:
          - {up_to: 15000, amount: 900}
        otherwise: 500
"""


def rules_with(**replacements: str) -> str:
    """SIMPLE_RULES with some texts replaced by others."""
    text = SIMPLE_RULES
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def _next_number(rule_set: RuleSet) -> int:
    top = RuleSetVersion.objects.filter(rule_set=rule_set).aggregate(top=Max("number"))["top"]
    return (top or 0) + 1


class RuleSetFactory(factory.django.DjangoModelFactory[RuleSet]):
    class Meta:
        model = RuleSet
        django_get_or_create = ("fund",)

    fund = factory.SubFactory(FundFactory)


class RuleSetVersionFactory(factory.django.DjangoModelFactory[RuleSetVersion]):
    """A published version of SIMPLE_RULES (``status="draft"`` for a draft)."""

    class Meta:
        model = RuleSetVersion

    rule_set = factory.SubFactory(RuleSetFactory)
    number = factory.LazyAttribute(lambda o: _next_number(o.rule_set))
    status = RuleSetVersion.Status.PUBLISHED
    source = SIMPLE_RULES
    document = factory.LazyAttribute(lambda o: read_source(o.source))
    label = factory.LazyAttribute(lambda o: str(o.document.get("version", "")))
    effective_from = factory.LazyAttribute(
        lambda o: dt.date.fromisoformat(o.document["effective_from"])
    )
    created_by = factory.SubFactory(UserFactory)
    published_by = factory.Maybe(
        factory.LazyAttribute(lambda o: o.status == RuleSetVersion.Status.PUBLISHED),
        yes_declaration=factory.SelfAttribute("created_by"),
        no_declaration=None,
    )
    published_at = factory.Maybe(
        factory.LazyAttribute(lambda o: o.status == RuleSetVersion.Status.PUBLISHED),
        yes_declaration=factory.LazyFunction(timezone.now),
        no_declaration=None,
    )


class ApplicationEvaluationFactory(factory.django.DjangoModelFactory[ApplicationEvaluation]):
    """A stored evaluation; its ``result`` is a plausible one, not computed."""

    class Meta:
        model = ApplicationEvaluation

    application = factory.SubFactory(ApplicationFactory)
    version = factory.SubFactory(
        RuleSetVersionFactory, rule_set__fund=factory.SelfAttribute("...application.fund")
    )
    eligible = True
    amount = Decimal("900.00")
    currency = "EUR"
    evaluated_on = factory.LazyFunction(lambda: timezone.now().date())
    inputs_digest = factory.Sequence(lambda n: f"{n:064x}")
    evaluated_at = factory.LazyFunction(timezone.now)
    is_current = True
    result = factory.LazyAttribute(
        lambda o: {
            "ref": o.application.reference,
            "eligible": o.eligible,
            "amount": str(o.amount),
            "currency": o.currency,
            "rule_set": {"name": "test-fund", "version": "v1", "number": o.version.number},
            "evaluation_date": o.evaluated_on.isoformat(),
            "components": {"grant": str(o.amount)},
            "criteria": [
                {
                    "id": "worked",
                    "passed": o.eligible,
                    "value": 14 if o.eligible else 3,
                    "explanation": "",
                    "label": {"fr": "A travaillé 12 jours", "en": "Worked 12 days"},
                    "explanations": {
                        "fr": "Vous avez travaillé 14 jours ; 12 sont requis.",
                        "en": "You worked 14 days; 12 are required.",
                    },
                }
            ],
        }
    )
