"""Who may do what with the evidence. The records are the platform's, not one fund's: model
permissions (given to the fund operators' group) rather than fund roles."""

from __future__ import annotations

from typing import Any

from entraide.core.errors import PermissionDenied

VIEW_BATCHES = "evidence.view_evidencebatch"
IMPORT_FILES = "evidence.add_evidencebatch"
ROLL_BACK = "evidence.delete_evidencebatch"


def require(user: Any, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied()
