from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _documents_in_a_temporary_directory(settings: Any, tmp_path: Any) -> None:
    settings.DOCUMENTS_DIR = tmp_path / "documents"
