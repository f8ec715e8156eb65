"""Cells written to files that people open in a spreadsheet (exports, payment files)."""

from __future__ import annotations

# A cell starting with one of these is a formula to a spreadsheet (OWASP's CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str) -> str:
    """The text, made inert for spreadsheets: a leading apostrophe keeps a formula as text."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
