from __future__ import annotations

from typing import Any

from django import forms

from entraide.core.errors import DomainError


def add_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """Show a service's refusal on the field it concerns (or the form), keeping what was typed."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class AccessibleForm(forms.Form):
    """Ties help and error texts to their fields (``aria-describedby``) for screen readers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.describe_fields()

    def describe_fields(self) -> None:
        """Tie help and error texts to the fields; call again after adding fields."""
        for name, field in self.fields.items():
            auto_id = self._auto_id_of(name)
            described = []
            if field.help_text:
                described.append(f"{auto_id}_helptext")
            if self.is_bound and name in self.errors:
                described.append(f"{auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)

    def _auto_id_of(self, name: str) -> str:
        # BoundField.auto_id's rule, without creating the bound field: it would copy the help
        # text now, and forms that set help texts after __init__ would never show them.
        html_name = self.add_prefix(name)
        if self.auto_id and "%s" in str(self.auto_id):
            return str(self.auto_id) % html_name
        return html_name if self.auto_id else ""
