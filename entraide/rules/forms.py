"""Forms of the rule editor: the draft's document as fields (parameters, windows, criteria,
amounts), and its YAML source for everything else.

Each field of :class:`RuleEditorForm` stands for one value of the document, at a path such as
``criteria[2].test``: the form writes the values back at their paths, and a problem found when
the document is validated is shown on the field at (or under) the path it names.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from entraide.core.forms import AccessibleForm, DateInput
from entraide.rules.document import Problem
from entraide.rules.editor import Path, dump_source, get_at, path_text, set_at

# The dated keys of an evidence aggregate, and what each one bounds, for people.
WINDOW_LABELS = {
    "window": _("counting window"),
    "opened": _("opening of the rights"),
    "ended": _("end of the rights"),
    "signed": _("signature of the contract"),
}
WINDOW_KEYS = tuple(WINDOW_LABELS)
KIND_LABELS = {
    "worked_days": _("days worked"),
    "hours": _("hours worked"),
    "cachets": _("cachets"),
    "gross_pay": _("gross pay"),
    "employers": _("employers"),
    "rights": _("unemployment rights"),
    "benefits": _("benefits paid"),
    "cancellations": _("cancelled dates"),
}
DATE_OR_EVALUATION_DATE = RegexValidator(
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|evaluation_date)$",
    _("Write a date as YYYY-MM-DD, or evaluation_date."),
)


def problem_text(problem: Problem) -> str:
    if not problem.path:
        return problem.message
    return gettext("%(path)s: %(message)s") % {"path": problem.path, "message": problem.message}


def _number(value: Decimal) -> int | float:
    """A number as JSON and YAML write it: whole numbers without a decimal point."""
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass
class Group:
    """A fieldset of the editor: its legend, its fields' names and nested fieldsets."""

    legend: str
    names: list[str] = field(default_factory=list)
    children: list[Group] = field(default_factory=list)
    fields: list[forms.BoundField] = field(default_factory=list)


class RuleEditorForm(AccessibleForm):
    """The editable values of a rule document, each a field tied to its path."""

    def __init__(self, data: Any = None, *, document: dict[str, Any]) -> None:
        # Fields are added from the document before the accessible descriptions are set.
        forms.Form.__init__(self, data)
        self.document = document
        self.paths: dict[str, Path] = {}
        self.kinds: dict[str, str] = {}
        self.groups: list[Group] = []
        self._general()
        self._parameters()
        self._evidence()
        self._criteria()
        self._amounts()
        self.describe_fields()
        for group in self._all_groups():
            group.fields = [self[name] for name in group.names]

    # -- building -----------------------------------------------------------------------

    def _all_groups(self) -> list[Group]:
        found, stack = [], list(self.groups)
        while stack:
            group = stack.pop()
            found.append(group)
            stack.extend(group.children)
        return found

    def _add(
        self, group: Group, path: Path, form_field: forms.Field, kind: str, initial: Any
    ) -> None:
        name = "__".join(str(part) for part in path)
        if name in self.fields:
            return
        form_field.initial = initial
        self.fields[name] = form_field
        self.paths[name] = path
        self.kinds[name] = kind
        group.names.append(name)

    def _text(self, group: Group, path: Path, label: str, *, required: bool = True) -> None:
        value = self._value(path)
        widget = (
            forms.Textarea(attrs={"rows": 3}) if path[-2:-1] in (("pass",), ("fail",)) else None
        )
        self._add(
            group,
            path,
            forms.CharField(label=label, required=required, widget=widget, strip=True),
            "text",
            value,
        )

    def _money(self, group: Group, path: Path, label: str, *, required: bool = True) -> None:
        self._add(
            group,
            path,
            forms.DecimalField(
                label=label, required=required, min_value=0, max_digits=14, decimal_places=2
            ),
            "number",
            self._value(path),
        )

    def _value(self, path: Path) -> Any:
        try:
            return get_at(self.document, path)
        except (KeyError, IndexError, TypeError):
            return None

    def _general(self) -> None:
        group = Group(gettext("The rules"))
        self._text(group, ("name", "fr"), gettext("Name in French"))
        self._text(group, ("name", "en"), gettext("Name in English"))
        self._add(
            group,
            ("version",),
            forms.CharField(
                label=gettext("Label of this version"),
                required=False,
                max_length=100,
                help_text=gettext("For people, e.g. the date of the decision that set the rules."),
            ),
            "text",
            self._value(("version",)),
        )
        self._add(
            group,
            ("effective_from",),
            forms.DateField(
                label=gettext("In force from"),
                widget=DateInput(),
                help_text=gettext(
                    "Applications submitted from this day on are evaluated with this version."
                ),
            ),
            "date",
            self._value(("effective_from",)),
        )
        self.groups.append(group)

    def _parameters(self) -> None:
        parameters = self.document.get("parameters") or {}
        if not parameters:
            return
        group = Group(gettext("Parameters: thresholds, amounts and dates"))
        for name, value in parameters.items():
            path: Path = ("parameters", name)
            if isinstance(value, str):
                self._add(
                    group,
                    path,
                    forms.DateField(label=name, widget=DateInput()),
                    "date",
                    value,
                )
            else:
                self._add(
                    group,
                    path,
                    forms.DecimalField(label=name, max_digits=18, decimal_places=4),
                    "number",
                    value,
                )
        self.groups.append(group)

    def _evidence(self) -> None:
        aggregates = self.document.get("evidence") or {}
        parent = Group(gettext("Evidence: the windows of the records that count"))
        for aggregate_id, aggregate in aggregates.items():
            group = Group(
                gettext("“%(name)s” (%(kind)s)")
                % {
                    "name": aggregate_id,
                    "kind": KIND_LABELS.get(aggregate["kind"], aggregate["kind"]),
                }
            )
            for key in WINDOW_KEYS:
                if key not in aggregate:
                    continue
                for bound, label in (
                    ("from", gettext("%(window)s: from") % {"window": WINDOW_LABELS[key]}),
                    ("to", gettext("%(window)s: to") % {"window": WINDOW_LABELS[key]}),
                ):
                    path: Path = ("evidence", aggregate_id, key, bound)
                    self._date_ref(group, path, label)
            if "at" in aggregate:
                self._date_ref(group, ("evidence", aggregate_id, "at"), gettext("On the date"))
            if group.names:
                parent.children.append(group)
        if parent.children:
            self.groups.append(parent)

    def _date_ref(self, group: Group, path: Path, label: str) -> None:
        self._add(
            group,
            path,
            forms.CharField(
                label=label,
                max_length=15,
                validators=[DATE_OR_EVALUATION_DATE],
                help_text=gettext("A date (YYYY-MM-DD), or evaluation_date."),
            ),
            "text",
            self._value(path),
        )

    def _criteria(self) -> None:
        parent = Group(gettext("Criteria"))
        for index, criterion in enumerate(self.document.get("criteria") or []):
            group = Group(gettext("Criterion “%(id)s”") % {"id": criterion.get("id", index)})
            self._text(group, ("criteria", index, "label", "fr"), gettext("Label in French"))
            self._text(group, ("criteria", index, "label", "en"), gettext("Label in English"))
            self._add(
                group,
                ("criteria", index, "test"),
                forms.CharField(
                    label=gettext("Test"),
                    help_text=gettext(
                        "An expression that is true when the criterion is met, "
                        "e.g. days_worked >= min_days."
                    ),
                ),
                "text",
                criterion.get("test"),
            )
            for outcome, language, label in (
                ("pass", "fr", gettext("Explanation when met, in French")),
                ("pass", "en", gettext("Explanation when met, in English")),
                ("fail", "fr", gettext("Explanation when not met, in French")),
                ("fail", "en", gettext("Explanation when not met, in English")),
            ):
                self._text(
                    group,
                    ("criteria", index, "explanation", outcome, language),
                    label,
                    required=False,
                )
            parent.children.append(group)
        self.groups.append(parent)

    def _amounts(self) -> None:
        parent = Group(gettext("Amounts"))
        components = (self.document.get("amount") or {}).get("components") or []
        for index, component in enumerate(components):
            base: Path = ("amount", "components", index)
            group = Group(gettext("Component “%(id)s”") % {"id": component.get("id", index)})
            if "flat" in component:
                self._money(group, (*base, "flat"), gettext("Flat amount"))
            elif "tiers" in component:
                group.legend = gettext("Component “%(id)s”: tiers by %(by)s") % {
                    "id": component.get("id", index),
                    "by": component["tiers"].get("by", ""),
                }
                for step, _tier in enumerate(component["tiers"].get("steps", [])):
                    path: Path = (*base, "tiers", "steps", step)
                    self._add(
                        group,
                        (*path, "up_to"),
                        forms.DecimalField(
                            label=gettext("Step %(n)s: up to") % {"n": step + 1},
                            max_digits=18,
                            decimal_places=4,
                        ),
                        "number",
                        self._value((*path, "up_to")),
                    )
                    self._money(
                        group,
                        (*path, "amount"),
                        gettext("Step %(n)s: amount") % {"n": step + 1},
                    )
                self._money(group, (*base, "tiers", "otherwise"), gettext("Amount above the steps"))
            elif "per_unit" in component:
                self._money(group, (*base, "per_unit", "rate"), gettext("Amount per unit"))
                self._add(
                    group,
                    (*base, "per_unit", "cap"),
                    forms.IntegerField(
                        label=gettext("At most this many units"),
                        required=False,
                        min_value=0,
                        help_text=gettext("Leave empty for no cap."),
                    ),
                    "integer",
                    self._value((*base, "per_unit", "cap")),
                )
            elif "range" in component:
                self._money(group, (*base, "range", "min"), gettext("Least amount"))
                self._money(group, (*base, "range", "max"), gettext("Greatest amount"))
                self._money(
                    group,
                    (*base, "range", "default"),
                    gettext("Amount proposed to the reviewer"),
                    required=False,
                )
            parent.children.append(group)
        self.groups.append(parent)

    # -- writing back -------------------------------------------------------------------

    def updated_document(self) -> dict[str, Any]:
        """A copy of the document with the cleaned values written at their paths."""
        data = copy.deepcopy(self.document)
        explanations: set[Path] = set()
        for name, path in self.paths.items():
            value = self.cleaned_data.get(name)
            kind = self.kinds[name]
            if value in (None, ""):
                value = None
            elif kind == "number" and isinstance(value, Decimal):
                value = _number(value)
            elif kind == "date" and isinstance(value, dt.date):
                value = value.isoformat()
            if path[0] == "criteria" and path[2] == "explanation":
                explanations.add(path[:3])
            set_at(data, path, value)
        for path in explanations:  # an explanation left empty is no explanation
            explanation = get_at(data, path)
            for outcome in ("pass", "fail"):
                if explanation.get(outcome) == {}:
                    del explanation[outcome]
            if not explanation:
                set_at(data, path, None)
        return data

    def updated_source(self, previous_source: str) -> str:
        return dump_source(self.updated_document(), previous_source)

    def add_problems(self, problems: list[Problem]) -> None:
        """Show each problem on the field at its path, or the first field under it; else on the
        form. The message names the path."""
        by_path = {path_text(path): name for name, path in self.paths.items()}
        for problem in problems:
            name = by_path.get(problem.path)
            if name is None and problem.path:
                name = next(
                    (
                        field_name
                        for text, field_name in by_path.items()
                        if text.startswith(problem.path + ".")
                        or text.startswith(problem.path + "[")
                    ),
                    None,
                )
            self.add_error(name, problem_text(problem))
        self.describe_fields()


class SourceForm(AccessibleForm):
    """The whole document as YAML, for what the fields do not cover."""

    source = forms.CharField(
        label=_("Rule document (YAML)"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "class": "code", "spellcheck": "false"}),
        help_text=_(
            "Everything the fields above do not cover: facts, criteria and their combination, "
            "exclusions, new components. Saving it replaces the draft."
        ),
    )

    def add_problems(self, problems: list[Problem]) -> None:
        for problem in problems:
            self.add_error("source", problem_text(problem))
        self.describe_fields()


class ReevaluationForm(forms.Form):
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)
