"""What an application declared against the fund's records, as the staff's application page shows
it (computed on the fly: nothing is stored)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext

from entraide.applications.models import Application
from entraide.evidence import selectors as evidence_selectors
from entraide.evidence.verification import Comparison, compare
from entraide.rules import selectors as rules_selectors
from entraide.rules import services as rules_services
from entraide.rules.engine import FactError
from entraide.rules.models import ApplicationEvaluation, RuleSetVersion


@dataclass(frozen=True)
class ApplicationVerification:
    """The comparison under ``version``, or why there is none (``problem``)."""

    version: RuleSetVersion | None
    comparison: Comparison | None
    problem: str = ""

    @property
    def disagrees(self) -> bool:
        return self.comparison is not None and self.comparison.disagrees


def application_verification(
    application: Application, *, evaluation: ApplicationEvaluation | None, language: str
) -> ApplicationVerification:
    """Compare what ``application`` declared with the records, on the fly, under the rules of
    its current ``evaluation`` (its version and date) or else those in force on the day it was
    submitted (5 queries at most: the version, the person's evidence)."""
    if evaluation is not None:
        version: RuleSetVersion | None = evaluation.version
        at = evaluation.evaluated_on
    else:
        at = rules_services.evaluation_date(application)
        version = rules_selectors.version_in_force(application.fund_id, at)
    if version is None:
        return ApplicationVerification(
            None,
            None,
            gettext(
                "No published version of the fund's rules applies to this application: there "
                "is nothing to compare the declaration with."
            ),
        )
    try:
        comparison = compare(
            rules_selectors.document_of(version),
            rules_services.applicant_record(application),
            evidence_selectors.person_evidence(application.nir_index),
            at=at,
            language=language,
        )
    except FactError:
        return ApplicationVerification(
            version, None, str(rules_services.FactsUnreadable.default_message)
        )
    return ApplicationVerification(version, comparison)
