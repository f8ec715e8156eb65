from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _evidence_folders_in_a_temporary_directory(settings: Any, tmp_path: Path) -> None:
    settings.EVIDENCE_INBOX_DIR = tmp_path / "inbox"
    settings.EVIDENCE_WATCH_DIR = tmp_path / "watched"
    settings.EVIDENCE_COLUMNS_DIR = tmp_path / "columns"
