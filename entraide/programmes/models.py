from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.core.money import CURRENCY_CHOICES


class Programme(models.Model):
    """A donor's relief commitment, split later into allocations to partner funds."""

    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    donor = models.CharField(_("donor"), max_length=200)
    commitment = models.DecimalField(_("commitment"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(commitment__gte=0), name="programme_commitment_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ProgrammeRole(models.Model):
    """A person's part in a programme: its managers allocate and record rates; its donor's
    people read the roll-up and the reports, never a person's data."""

    class Role(models.TextChoices):
        MANAGER = "manager", pgettext_lazy("programme role", "Programme manager")
        DONOR = "donor", pgettext_lazy("programme role", "Donor")

    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.CASCADE, related_name="roles"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.CASCADE,
        related_name="programme_roles",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("programme role")
        verbose_name_plural = _("programme roles")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "user", "role"], name="programme_role_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}: {self.user_id} ({self.role})"


class RateImport(models.Model):
    """One file of reference rates imported (the ECB's), once: what it held and who brought it."""

    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("imported at"))
    days = models.PositiveIntegerField(_("days"), default=0)
    rates = models.PositiveIntegerField(_("rates"), default=0)
    first_day = models.DateField(_("first day"), null=True, blank=True)
    last_day = models.DateField(_("last day"), null=True, blank=True)

    class Meta:
        verbose_name = _("import of exchange rates")
        verbose_name_plural = _("imports of exchange rates")

    def __str__(self) -> str:
        return self.file_name


class ExchangeRate(models.Model):
    """How many units of ``currency`` one euro bought on a day: the ECB's reference rate, or a
    rate someone recorded by hand (which wins over the ECB's for that day). Every conversion
    keeps the rates it used."""

    class Source(models.TextChoices):
        ECB = "ecb", pgettext_lazy("rate source", "ECB reference rate")
        MANUAL = "manual", pgettext_lazy("rate source", "Recorded by hand")

    day = models.DateField(_("day"))
    currency = models.CharField(_("currency"), max_length=3)
    # Units of the currency per euro, as the ECB publishes them (up to 4 decimals; more by hand).
    rate = models.DecimalField(_("rate per euro"), max_digits=18, decimal_places=6)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    imported_from = models.ForeignKey(
        RateImport,
        verbose_name=_("imported from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exchange_rates",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "day", "source"], name="exchange_rate_one_per_day_and_source"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(
                condition=~models.Q(currency="EUR"), name="exchange_rate_not_of_the_euro"
            ),
        ]
        indexes = [models.Index(fields=["currency", "-day"], name="exchange_rate_latest")]

    def __str__(self) -> str:
        return f"{self.day} EUR/{self.currency} {self.rate} ({self.source})"


class Allocation(models.Model):
    """Part of a programme's commitment given to a partner fund, or kept for crew relief: in
    the programme's currency, and in the fund's at the rate recorded when it was made."""

    programme = models.ForeignKey(
        Programme,
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        related_name="allocations",
    )
    fund = models.ForeignKey(
        "funds.Fund",
        verbose_name=_("fund"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="allocations",
        help_text=_("Empty: crew relief, paid by the programme from production rosters."),
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    # In the fund's currency (the programme's for crew relief), converted at ``rate``.
    converted_amount = models.DecimalField(
        _("amount in the fund's currency"), max_digits=14, decimal_places=2
    )
    converted_currency = models.CharField(_("fund's currency"), max_length=3)
    # Units of the fund's currency per unit of the programme's; 1 when they are the same.
    rate = models.DecimalField(_("rate used"), max_digits=18, decimal_places=8)
    rate_day = models.DateField(_("rate of the day"))
    # The rates the conversion read (one, or two through the euro; none within one currency).
    rates_used = models.ManyToManyField(
        ExchangeRate, verbose_name=_("rates read"), blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("allocated by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    allocated_at = models.DateTimeField(_("allocated at"))

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="allocation_positive"),
            models.CheckConstraint(
                condition=models.Q(converted_amount__gt=0), name="allocation_converted_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id} → {self.fund_id or 'crew'}: {self.amount}"
