from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Decision(models.Model):
    """A reviewer's decision on an application, with the amount granted and the reasons."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", pgettext_lazy("decision outcome", "Approved")
        REJECTED = "rejected", pgettext_lazy("decision outcome", "Rejected")

    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="decision",
    )
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.PROTECT, related_name="decisions"
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.TextField(_("reason given to the applicant"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"))
    # The rule version of the application's evaluation when it was decided (none: no rules).
    rule_version = models.ForeignKey(
        "rules.RuleSetVersion",
        verbose_name=_("rule version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
    )

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="decision_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="rejected") | models.Q(amount=0),
                name="decision_rejection_has_no_amount",
            ),
        ]
        indexes = [models.Index(fields=["fund", "outcome"])]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.outcome}"
