"""Synthetic roster files for the tests: the builder is the demo's (entraide.demo.synthetic:
valid NIRs and IBANs, no real person), beside the sample file of docs/crew.md."""

from __future__ import annotations

from pathlib import Path

from entraide.demo.synthetic import ROSTER_HEADER as HEADER
from entraide.demo.synthetic import birth_date_of, crew_row, roster_file

__all__ = ["HEADER", "SAMPLE", "birth_date_of", "crew_row", "roster_file"]

SAMPLE = Path(__file__).parent / "data" / "roster-sample.csv"
