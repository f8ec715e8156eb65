"""Partner systems (a union, a social-protection body) that submit applications for their
members through the API, their tokens, and the status notifications sent back to them."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class Partner(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    webhook_url = models.URLField(
        _("webhook URL"),
        max_length=500,
        blank=True,
        help_text=_("Where status changes of the partner's applications are sent; empty: none."),
    )
    # Kept in clear: signing needs it. The partner verifies the HMAC-SHA256 with the same secret.
    webhook_secret = models.CharField(
        _("webhook signing secret"), max_length=64, default=new_webhook_secret, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class PartnerToken(models.Model):
    """A bearer token of one partner for one fund. Only its SHA-256 is stored."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="tokens"
    )
    fund = models.ForeignKey(
        "funds.Fund", verbose_name=_("fund"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(
        _("prefix"),
        max_length=16,
        db_index=True,
        help_text=_("The first characters, to tell the tokens apart."),
    )
    token_hash = models.CharField(_("SHA-256 of the token"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner token")
        verbose_name_plural = _("partner tokens")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.partner})"


class WebhookDelivery(models.Model):
    """One event to POST to a partner's webhook, retried with backoff until it is accepted."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("webhook delivery", "Pending")
        DELIVERED = "delivered", pgettext_lazy("webhook delivery", "Delivered")
        FAILED = "failed", pgettext_lazy("webhook delivery", "Failed")

    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="webhook_deliveries",
    )
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    event = models.CharField(_("event"), max_length=60)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.partner} ({self.status})"
