"""The integrity pages' forms. Field names are those of the services' arguments and of
``ValidationFailed.field``, so that a service's refusal lands on the field it concerns."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm
from entraide.integrity.models import IntegritySettings


def _model_field(name: str) -> forms.Field:
    """The form field of IntegritySettings' ``name``: its label, help text and bounds."""
    field = IntegritySettings._meta.get_field(name).formfield()  # type: ignore[union-attr]
    assert field is not None
    return field


class IntegritySettingsForm(AccessibleForm):
    duplicate_threshold = _model_field("duplicate_threshold")
    listed_threshold = _model_field("listed_threshold")
    flag_shared_account = _model_field("flag_shared_account")
    flag_shared_contact = _model_field("flag_shared_contact")
    origin_window_minutes = _model_field("origin_window_minutes")
    origin_burst = _model_field("origin_burst")


class LinkDecisionForm(AccessibleForm):
    """Whether the two applications are one person; why not, when they are not."""

    SAME = "same"
    DIFFERENT = "different"

    decision = forms.ChoiceField(
        label=_("These two applications are"),
        choices=[
            (SAME, _("The same person")),
            (DIFFERENT, _("Different people")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Required for different people: say what tells them apart. It is kept with the "
            "decision and closes the flags."
        ),
    )

    @property
    def same_person(self) -> bool:
        return bool(self.cleaned_data["decision"] == self.SAME)
