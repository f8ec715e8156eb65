"""The back office's form for a fund's partners: issuing a token to a partner already
registered or to a new one."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm
from entraide.intake.models import Partner

NEW_PARTNER_FIELDS = ("name", "slug", "webhook_url")


class IssueTokenForm(AccessibleForm):
    """The new partner's fields are named as ``create_partner``'s arguments, so that its
    refusals (``field="slug"``...) land on them."""

    partner = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=Partner.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label=_("A new partner (describe it below)"),
        help_text=_(
            "A partner already registered (it may work with other funds), or a new one: "
            "then leave this choice empty and fill in the partner's name and short name."
        ),
    )
    name = forms.CharField(label=_("Name of the new partner"), max_length=200, required=False)
    slug = forms.SlugField(
        label=_("Short name of the new partner"),
        max_length=60,
        required=False,
        help_text=_("Lower-case letters, digits, hyphens and underscores; it cannot change."),
    )
    webhook_url = forms.URLField(
        label=_("Webhook URL (optional)"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_(
            "Where status changes of the partner's applications are sent (http:// or https://); "
            "empty: the partner polls the API instead."
        ),
    )
    token_name = forms.CharField(
        label=_("What the token is for"),
        max_length=100,
        required=False,
        help_text=_("For example “production server”: it helps to tell the tokens apart."),
    )
    # One value per form shown: a second post of the same form (a reload of the result page)
    # must not issue a second token that nobody has seen.
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, partners: QuerySet[Partner], **kwargs: Any) -> None:
        # The choices must be there before the fields are described (which validates).
        forms.Form.__init__(self, *args, **kwargs)
        partner_field = self.fields["partner"]
        assert isinstance(partner_field, forms.ModelChoiceField)
        partner_field.queryset = partners
        if not self.is_bound:
            self.initial.setdefault("submission", secrets.token_urlsafe(16))
        self.describe_fields()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        new_partner = [field for field in NEW_PARTNER_FIELDS if cleaned.get(field)]
        if cleaned.get("partner") is not None:
            if new_partner:
                self.add_error(
                    None,
                    _(
                        "Choose a registered partner or describe a new one, not both: empty "
                        "the new partner's fields, or the choice of partner."
                    ),
                )
        elif "partner" not in self.errors:
            for field in ("name", "slug"):
                if not cleaned.get(field) and field not in self.errors:
                    self.add_error(
                        field,
                        _("Required for a new partner (or choose a registered partner above)."),
                    )
        return cleaned
