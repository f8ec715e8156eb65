"""Files and people for the tests of the evidence imports' pages, API and watched folder."""

from __future__ import annotations

from django.contrib.auth.models import Permission

from entraide.accounts.models import User
from entraide.accounts.services import fund_operators_group
from entraide.accounts.tests.factories import UserFactory
from entraide.evidence.tests.test_imports import HEADER, declaration


def declarations_csv(*, bad_lines: int = 1, month: str = "01") -> bytes:
    """Two good declarations (of the month) and ``bad_lines`` with an invalid NAF code."""
    lines = [
        HEADER,
        declaration(start=f"2024-{month}-02", end=f"2024-{month}-05"),
        declaration(start=f"2024-{month}-10", end=f"2024-{month}-12", contract_type="CDD"),
        *[declaration(naf="5911A") for _ in range(bad_lines)],
    ]
    return ("\n".join(lines) + "\n").encode()


def fund_operator() -> User:
    """Someone of the "Fund operators" group: may view, import and roll back evidence (with
    the authenticator app the back office requires of them)."""
    user = UserFactory.create(mfa=True)
    user.groups.add(fund_operators_group())
    return user


def with_permissions(*codenames: str) -> User:
    user = UserFactory.create()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="evidence", codename__in=codenames)
    )
    return user
