from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

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
