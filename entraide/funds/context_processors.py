from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from entraide.funds.permissions import is_back_office_user


def back_office(request: HttpRequest) -> dict[str, Any]:
    """Whether to show the back-office link; evaluated only if a template asks."""
    return {"is_back_office_user": SimpleLazyObject(lambda: is_back_office_user(request.user))}
