"""A fund's rule set, its numbered versions, and the evaluations of applications under them.

A version's ``source`` is the YAML as the operator wrote it; ``document`` is the same document
parsed and validated (JSON), which is what evaluation reads. A published version never changes,
so an evaluation (and the decision made on it) can be reproduced from the version it names.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class RuleSet(models.Model):
    """The versioned eligibility and amount rules of one fund."""

    fund = models.OneToOneField(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.PROTECT, related_name="rule_set"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rule set")
        verbose_name_plural = _("rule sets")

    def __str__(self) -> str:
        return str(self.fund)


class RuleSetVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("rule version status", "Draft")
        PUBLISHED = "published", pgettext_lazy("rule version status", "Published")

    rule_set = models.ForeignKey(
        RuleSet, verbose_name=_("rule set"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    source = models.TextField(_("rule document (YAML)"))
    document = models.JSONField(_("validated rule document"))
    label = models.CharField(_("label"), max_length=100, blank=True)
    effective_from = models.DateField(_("effective from"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rule set version")
        verbose_name_plural = _("rule set versions")
        ordering = ("rule_set", "-number")
        constraints = [
            models.UniqueConstraint(
                fields=["rule_set", "number"], name="rule_version_number_unique"
            ),
            # One draft at a time: the next version is prepared in one place.
            models.UniqueConstraint(
                fields=["rule_set"],
                condition=models.Q(status="draft"),
                name="rule_version_one_draft",
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1), name="rule_version_number_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft")
                | (models.Q(published_at__isnull=False) & models.Q(published_by__isnull=False)),
                name="rule_version_published_has_who_and_when",
            ),
        ]
        indexes = [models.Index(fields=["rule_set", "status", "effective_from"])]

    def __str__(self) -> str:
        return f"{self.rule_set} v{self.number}"

    @property
    def title(self) -> str:
        """How people refer to the version: its number, and its label when it has one."""
        if self.label:
            return gettext("Version %(number)s (%(label)s)") % {
                "number": self.number,
                "label": self.label,
            }
        return gettext("Version %(number)s") % {"number": self.number}

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class ApplicationEvaluation(models.Model):
    """What the rules said about an application under one version: eligible, amount and why.

    ``result`` is the engine's ``Evaluation.as_json()`` (decisions.jsonl of FORMATS.md) with
    the amount's components, each criterion's label and explanation in every language, the
    evaluation date and the version number. ``inputs_digest`` fingerprints what was evaluated
    (version, date, facts and evidence): evaluating the same again stores nothing new.
    """

    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    version = models.ForeignKey(
        RuleSetVersion,
        verbose_name=_("rule version"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    eligible = models.BooleanField(_("eligible"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    result = models.JSONField(_("result"))
    evaluated_on = models.DateField(_("evaluation date"))
    inputs_digest = models.CharField(_("inputs fingerprint"), max_length=64)
    evaluated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("evaluated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    evaluated_at = models.DateTimeField(_("evaluated at"))
    is_current = models.BooleanField(_("current"), default=True)

    class Meta:
        verbose_name = _("application evaluation")
        verbose_name_plural = _("application evaluations")
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=models.Q(is_current=True),
                name="evaluation_one_current_per_application",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="evaluation_amount_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["application", "-evaluated_at"])]

    def __str__(self) -> str:
        return f"{self.application_id} v{self.version_id}: {self.eligible}"
