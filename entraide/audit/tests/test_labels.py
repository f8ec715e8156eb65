from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from entraide.audit.labels import ACTION_LABELS

RECORDED_ACTION = re.compile(r'\baction="([a-z_]+\.[a-z_]+)"')


def test_every_action_the_services_record_has_a_label_for_the_audit_pages() -> None:
    sources = [
        path
        for path in (Path(settings.BASE_DIR) / "entraide").rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]
    recorded = {
        action for path in sources for action in RECORDED_ACTION.findall(path.read_text("utf-8"))
    }
    assert recorded  # the pattern still finds the services' audit.record calls
    assert sorted(recorded - set(ACTION_LABELS)) == []
