"""Helpers of the rule editor: writing a document back to YAML, reaching a value by its path,
and the starting document of a fund that has no rules yet."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml

from entraide.funds.models import Fund
from entraide.rules.document import DEFAULT_IDENTIFIER

Path = tuple[str | int, ...]
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
DOCUMENT_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def path_text(path: Path) -> str:
    """``("criteria", 2, "test")`` → ``criteria[2].test``, as validation problems name it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_path(text: str) -> Path:
    return tuple(
        int(index) if index else name for name, index in _PART.findall(text) if name or index
    )


def get_at(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def set_at(data: Any, path: Path, value: Any) -> None:
    """Set (or, with ``None``, remove) the value at ``path``, creating mappings on the way."""
    for part in path[:-1]:
        if isinstance(part, str) and part not in data:
            data[part] = {}
        data = data[part]
    last = path[-1]
    if value is None:
        if isinstance(last, str):
            data.pop(last, None)
        return
    data[last] = value


class _Dumper(yaml.SafeDumper):
    """Block style for the structure, flow style for small leaves, no aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _leading_comments(source: str) -> str:
    lines: list[str] = []
    for line in source.splitlines():
        if line.startswith("#") or (lines and not line.strip()):
            lines.append(line)
            continue
        break
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def dump_source(data: dict[str, Any], previous_source: str = "") -> str:
    """The document as YAML, keeping the comments at the top of the previous source (the
    operator's notes on the rules' choices). Other comments are not kept."""
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=100,
    )
    return _leading_comments(previous_source) + body


def starter_source(fund: Fund) -> str:
    """A small, valid document to start from when the fund has no rules yet: 12 days worked in
    the year before the fund opened, resources up to a ceiling, the fund's standard amount."""
    identifier = fund.slug if DOCUMENT_ID.match(fund.slug) else f"fund-{fund.slug}"[:63]
    year_before = fund.opens_on - dt.timedelta(days=365)
    standard = fund.standard_amount
    data: dict[str, Any] = {
        "schema": "entraide/rules/1",
        "id": identifier.rstrip("-") or "fund",
        "name": {"fr": fund.name, "en": fund.name},
        "version": "1",
        "effective_from": fund.opens_on.isoformat(),
        "currency": fund.currency,
        "one_per_person": "fund",
        # Shown so that the operator of a fund outside France sees what to change.
        "identifier": DEFAULT_IDENTIFIER,
        "parameters": {"min_days": 12, "resources_ceiling": 15000},
        "facts": [
            {
                "id": "annual_resources",
                "type": "money",
                "label": {
                    "fr": "Ressources annuelles avant toute allocation",
                    "en": "Annual resources before any allowance",
                },
                "min": 0,
            }
        ],
        "evidence": {
            "days_worked": {
                "kind": "worked_days",
                "label": {"fr": "Jours travaillés", "en": "Days worked"},
                "window": {
                    "from": year_before.isoformat(),
                    "to": (fund.opens_on - dt.timedelta(days=1)).isoformat(),
                },
                "contract_types": ["CDD", "CDDU"],
            }
        },
        "criteria": [
            {
                "id": "worked_enough",
                "label": {
                    "fr": "Au moins 12 jours travaillés dans l'année",
                    "en": "At least 12 days worked in the year",
                },
                "test": "days_worked >= min_days",
                "explanation": {
                    "pass": {
                        "fr": "Vous avez travaillé {days_worked} jours entre le "
                        "{days_worked.from} et le {days_worked.to} ; {min_days} sont requis.",
                        "en": "You worked {days_worked} days between {days_worked.from} and "
                        "{days_worked.to}; {min_days} are required.",
                    },
                    "fail": {
                        "fr": "Vous avez travaillé {days_worked} jours entre le "
                        "{days_worked.from} et le {days_worked.to} ; {min_days} sont requis.",
                        "en": "You worked {days_worked} days between {days_worked.from} and "
                        "{days_worked.to}; {min_days} are required.",
                    },
                },
            },
            {
                "id": "low_resources",
                "label": {
                    "fr": "Ressources annuelles sous le plafond",
                    "en": "Annual resources under the ceiling",
                },
                "test": "annual_resources <= resources_ceiling",
            },
        ],
        "eligibility": {"all": ["worked_enough", "low_resources"]},
        "amount": {
            "combine": "sum",
            "components": [
                {
                    "id": "grant",
                    "label": {"fr": "Aide", "en": "Grant"},
                    "flat": int(standard)
                    if standard == standard.to_integral()
                    else float(standard),
                }
            ],
        },
    }
    header = f"# Rules of {fund.name}: a starting point, to adapt to the fund.\n"
    return dump_source(data, header)
