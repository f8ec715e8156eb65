"""The public statistics' settings form: whether the fund publishes them."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm


class PublicStatisticsForm(AccessibleForm):
    published = forms.BooleanField(
        label=_("Publish the fund's statistics on a public page"),
        required=False,
        help_text=_(
            "Anyone can read the page, without an account: counts and amounts only, each figure "
            "resting on fewer than 10 people hidden. Unticked, the page does not exist."
        ),
    )
