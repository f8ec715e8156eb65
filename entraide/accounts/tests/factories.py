from __future__ import annotations

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache

from entraide.accounts import selectors
from entraide.accounts.mfa import current_totp_code, enroll_totp
from entraide.accounts.models import User

# The key of every test person's authenticator app (base32): entraide.accounts.mfa's
# current_totp_code(TEST_TOTP_SECRET) is the code their app shows.
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def with_authenticator_app(user: User) -> User:
    """``user`` with an authenticator app set up (as the back office requires of whoever may
    approve or pay)."""
    enroll_totp(user, TEST_TOTP_SECRET)
    return user


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A person; ``UserFactory(mfa=True)`` has an authenticator app set up."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.invalid")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def verified(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)

    @factory.post_generation
    def mfa(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        if create and extracted:
            with_authenticator_app(self)


def ready_for_second_step(email: str) -> bool:
    """For the tests that log in through the form: whoever needs a second factor gets the
    tests' authenticator app if they have none yet; whether the login will ask for a code."""
    user = selectors.user_by_email(email)
    if user is None:
        return False
    if selectors.requires_mfa(user):
        with_authenticator_app(user)
    return Authenticator.objects.filter(user=user, type__in=selectors.SECOND_FACTORS).exists()


def second_step_code(email: str) -> str:
    """The code the tests' authenticator app shows now, usable again by the same person
    within its 30 seconds (allauth refuses a code used twice)."""
    code = current_totp_code(TEST_TOTP_SECRET)
    user = selectors.user_by_email(email)
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is not None:
        cache.delete(TOTP(authenticator)._get_used_cache_key(code))
    return code
