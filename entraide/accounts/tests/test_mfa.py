from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client
from django.urls import reverse

from entraide.core.crypto import decrypt_text
from entraide.funds.tests.factories import FundRoleFactory


@pytest.mark.django_db
@pytest.mark.without_test_authenticator
def test_staff_turn_on_an_authenticator_app_after_confirming_their_password(
    client: Client,
) -> None:
    staff = FundRoleFactory(role="approver", mfa=False).user
    client.force_login(staff)
    assert client.get(reverse("mfa_index")).status_code == 200
    activate_url = reverse("mfa_activate_totp")
    assert client.get(activate_url)["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": "correct-horse-battery"})
    page = client.get(activate_url)
    secret = page.context["form"].secret
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    client.post(activate_url, {"code": code})
    authenticator = Authenticator.objects.get(user=staff, type=Authenticator.Type.TOTP)
    # Encrypted at rest with the application's keys.
    assert secret not in str(authenticator.data)
    assert decrypt_text(authenticator.data["secret"]) == secret
