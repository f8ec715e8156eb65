"""Who gets what from every operation of the API (one table, generated from the OpenAPI
document: an operation without a row fails), and no operation reaching another fund's or
another partner's object (IDOR) with a token that may use it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from entraide.accounts.models import ApiToken, User
from entraide.accounts.services import API_TOKEN_PREFIX, issue_api_token
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.tests.worker import DATABASE_TASKS
from entraide.evidence.models import EvidenceBatch
from entraide.evidence.tasks import import_uploaded_evidence
from entraide.evidence.tests.factories import EvidenceBatchFactory
from entraide.evidence.tests.helpers import declarations_csv, fund_operator
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.intake.api import api
from entraide.intake.models import PartnerToken
from entraide.intake.services import TOKEN_PREFIX
from entraide.intake.tests.conftest import application_body
from entraide.intake.tests.factories import PartnerFactory, issued_token
from entraide.reporting.tasks import export_applications
from entraide.rules.tests.factories import RuleSetVersionFactory

pytestmark = pytest.mark.django_db

STAFF_ROLES = ("operator_admin", "reviewer", "approver", "finance", "auditor")

API_ACTORS = (  # the columns of the table below
    "nobody",  # ---: no Authorization header
    "unknown_partner_token",  # ukp: a partner's token, by its form, that was never issued
    "unknown_personal_token",  # uks: a person's token, by its form, that was never issued
    "revoked_partner",  # rvk: the partner's token of fund A, revoked
    "partner",  # prt: partner P's token of fund A (P sent the application the URLs name)
    "other_partner",  # oth: partner Q's token of fund A
    "partner_of_other_fund",  # ptB: partner P's token of fund B
    "session",  # ses: a superuser's session cookie, no token
    "revoked_staff",  # rvs: the fund operator's personal token, revoked
    "operator_admin",  # adm: personal API tokens of the people with a role on fund A
    "reviewer",  # rev
    "approver",  # apr
    "finance",  # fin
    "auditor",  # aud
    "reviewer_of_other_fund",  # rvB: personal token of a reviewer of fund B
    "fund_operator",  # opr: personal token of someone of the "Fund operators" group
)

# What each actor gets (a problem, application/problem+json, but on success).
OK = 200
CR = 201  # created
AC = 202  # accepted: the import is queued
UN = 401  # not the credentials the operation takes: a partner's token, or a person's
NO = 403  # a person's token, without the permission
NF = 404  # another fund, another partner's application: as if it did not exist

# fmt: off
API_MATRIX: dict[str, tuple[int, ...]] = {
    #                      --- ukp uks rvk prt oth ptB ses rvs adm rev apr fin aud rvB opr
    # The partners' operations: a partner's token of the fund, and nothing else, not even a
    # superuser's session or a person's token.
    "get_fund":           (UN, UN, UN, UN, OK, OK, NF, UN, UN, UN, UN, UN, UN, UN, UN, UN),
    "create_application": (UN, UN, UN, UN, CR, CR, NF, UN, UN, UN, UN, UN, UN, UN, UN, UN),
    "list_applications":  (UN, UN, UN, UN, OK, OK, NF, UN, UN, UN, UN, UN, UN, UN, UN, UN),
    # Partner Q does not see partner P's application.
    "get_application":    (UN, UN, UN, UN, OK, NF, NF, UN, UN, UN, UN, UN, UN, UN, UN, UN),
    # The evidence is the platform's, not a fund's: a person's token with the evidence
    # permissions (the fund operators'), whatever their roles on funds.
    "create_import":      (UN, UN, UN, UN, UN, UN, UN, UN, UN, NO, NO, NO, NO, NO, NO, AC),
    "get_import":         (UN, UN, UN, UN, UN, UN, UN, UN, UN, NO, NO, NO, NO, NO, NO, OK),
    "get_batch_errors":   (UN, UN, UN, UN, UN, UN, UN, UN, UN, NO, NO, NO, NO, NO, NO, OK),
}
# fmt: on


@dataclass
class ApiWorld:
    """Fund A (rules in force) and fund B; partner P with a token for each, partner Q with one
    for fund A; an application of each partner in fund A, one of P in fund B and one made on
    fund A's portal; the fund's staff, a reviewer of fund B and a fund operator with personal
    tokens; an evidence batch with its error report, an import waiting for the worker and an
    export of fund A's applications (another kind of task)."""

    fund: Fund = field(init=False)
    other_fund: Fund = field(init=False)
    application: Application = field(init=False)
    foreign: dict[str, Application] = field(init=False)
    batch: EvidenceBatch = field(init=False)
    batch_without_report: EvidenceBatch = field(init=False)
    import_task_id: str = field(init=False)
    export_task_id: str = field(init=False)
    authorizations: dict[str, str | None] = field(init=False)
    superuser: User = field(init=False)

    def __post_init__(self) -> None:
        self.fund = FundFactory.create(slug="fund-a")
        RuleSetVersionFactory.create(rule_set__fund=self.fund)
        self.other_fund = FundFactory.create(slug="fund-b")
        RuleSetVersionFactory.create(rule_set__fund=self.other_fund)
        p, q = PartnerFactory.create(slug="p"), PartnerFactory.create(slug="q")
        token_a, raw_a = issued_token(partner=p, fund=self.fund)
        token_b, raw_b = issued_token(partner=p, fund=self.other_fund)
        token_q, raw_q = issued_token(partner=q, fund=self.fund)
        revoked, raw_revoked = issued_token(partner=p, fund=self.fund)
        PartnerToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
        self.application = self._partner_application(token_a)
        self.foreign = {
            "another partner's application of the fund": self._partner_application(token_q),
            "an application made on the fund's portal": ApplicationFactory.create(fund=self.fund),
            "the partner's application of another fund": self._partner_application(token_b),
            "an application of another fund": ApplicationFactory.create(fund=self.other_fund),
        }
        people: dict[str, User] = {
            role: FundRoleFactory.create(fund=self.fund, role=role).user for role in STAFF_ROLES
        }
        people["reviewer_of_other_fund"] = FundRoleFactory.create(
            fund=self.other_fund, role=FundRole.Role.REVIEWER
        ).user
        people["fund_operator"] = fund_operator()
        revoked_staff, raw_revoked_staff = issue_api_token(
            actor=None, user=people["fund_operator"], name="old script"
        )
        ApiToken.objects.filter(pk=revoked_staff.pk).update(revoked_at=timezone.now())
        self.authorizations = {
            "nobody": None,
            "unknown_partner_token": f"Bearer {TOKEN_PREFIX}{'x' * 43}",
            "unknown_personal_token": f"Bearer {API_TOKEN_PREFIX}{'x' * 43}",
            "revoked_partner": f"Bearer {raw_revoked}",
            "partner": f"Bearer {raw_a}",
            "other_partner": f"Bearer {raw_q}",
            "partner_of_other_fund": f"Bearer {raw_b}",
            "session": None,
            "revoked_staff": f"Bearer {raw_revoked_staff}",
            **{
                actor: f"Bearer {issue_api_token(actor=None, user=user, name='script')[1]}"
                for actor, user in people.items()
            },
        }
        self.superuser = UserFactory.create(is_superuser=True, is_staff=True)
        self.batch = EvidenceBatchFactory.create(status="done", file_name="declarations.csv")
        report = Path(django_settings.EXPORTS_DIR) / "evidence" / f"batch-{self.batch.pk}.csv"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text("line,column,code,message\n", encoding="utf-8")
        EvidenceBatch.objects.filter(pk=self.batch.pk).update(error_report=str(report))
        self.batch_without_report = EvidenceBatchFactory.create(status="done")
        self.import_task_id = str(
            import_uploaded_evidence.enqueue("rights", "0/rights.csv", "", None, "en").id
        )
        admin = people["operator_admin"]
        self.export_task_id = str(
            export_applications.enqueue(self.fund.pk, admin.pk, {}, "csv", "fr").id
        )

    @staticmethod
    def _partner_application(token: PartnerToken) -> Application:
        application: Application = ApplicationFactory.create(
            fund=token.fund, partner=token.partner, applicant=None
        )
        return application

    def client_of(self, actor: str) -> tuple[Client, dict[str, str]]:
        client = Client()
        if actor == "session":
            client.force_login(self.superuser)
        authorization = self.authorizations[actor]
        headers = {"Accept-Language": "en"}
        if authorization is not None:
            headers["Authorization"] = authorization
        return client, headers


@dataclass(frozen=True)
class Call:
    """One request: the test client's method, the path, its arguments and headers."""

    method: str
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _submission(fund: Fund) -> Call:
    return Call(
        "post",
        f"/api/v1/funds/{fund.slug}/applications",
        {"data": json.dumps(application_body()), "content_type": "application/json"},
        {"Idempotency-Key": "key-1"},
    )


def _import_upload() -> Call:
    upload = SimpleUploadedFile("declarations.csv", declarations_csv(), "text/csv")
    return Call(
        "post", "/api/v1/evidence/imports", {"data": {"kind": "declarations", "file": upload}}
    )


# A request each operation answers with success to those who may use it.
REQUESTS: dict[str, Callable[[ApiWorld], Call]] = {
    "get_fund": lambda w: Call("get", f"/api/v1/funds/{w.fund.slug}"),
    "create_application": lambda w: _submission(w.fund),
    "list_applications": lambda w: Call("get", f"/api/v1/funds/{w.fund.slug}/applications"),
    "get_application": lambda w: Call(
        "get", f"/api/v1/funds/{w.fund.slug}/applications/{w.application.reference}"
    ),
    "create_import": lambda w: _import_upload(),
    "get_import": lambda w: Call("get", f"/api/v1/evidence/imports/{w.import_task_id}"),
    "get_batch_errors": lambda w: Call("get", f"/api/v1/evidence/batches/{w.batch.pk}/errors"),
}


def _send(world: ApiWorld, actor: str, call: Call) -> Any:
    client, headers = world.client_of(actor)
    send = getattr(client, call.method)
    response = send(call.path, headers={**headers, **call.headers}, **call.kwargs)
    if response.streaming:
        # Read to the end: the test client then closes the file, as a WSGI server would (a
        # second close() would close the test's database connection).
        b"".join(response.streaming_content)
    return response


@cache
def _operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every operation of the OpenAPI document: (method, path, operation) by operation id."""
    found = {}
    for path, methods in api.get_openapi_schema()["paths"].items():
        for method, operation in methods.items():
            found[operation["operationId"]] = (method, path, operation)
    return found


@pytest.fixture
def world(settings: Any, tmp_path: Path) -> ApiWorld:
    # Tasks stay in the database: an import is only queued, an export's result can be found.
    settings.TASKS = DATABASE_TASKS
    settings.EVIDENCE_INBOX_DIR = tmp_path / "inbox"
    return ApiWorld()


def _cases() -> Iterator[Any]:
    for operation, expectations in API_MATRIX.items():
        assert len(expectations) == len(API_ACTORS), f"{operation}: one expectation per actor"
        for actor, expected in zip(API_ACTORS, expectations, strict=True):
            yield pytest.param(operation, actor, expected, id=f"{operation}-{actor}")


def test_the_table_has_every_operation_of_the_openapi_document() -> None:
    assert set(_operations()) == set(API_MATRIX) == set(REQUESTS)


def test_the_documented_security_of_each_operation_is_the_one_the_table_expects() -> None:
    partner = API_ACTORS.index("partner")
    partner_operations = {name for name, row in API_MATRIX.items() if row[partner] in (OK, CR)}
    for name, (_method, _path, operation) in _operations().items():
        schemes = {scheme for requirement in operation["security"] for scheme in requirement}
        assert schemes == ({"PartnerBearer"} if name in partner_operations else {"StaffBearer"})


@pytest.mark.parametrize(("operation", "actor", "expected"), list(_cases()))
def test_each_actor_gets_the_expected_answer_from_each_operation(
    world: ApiWorld, operation: str, actor: str, expected: int
) -> None:
    response = _send(world, actor, REQUESTS[operation](world))

    assert response.status_code == expected, response.content
    documented = {str(status) for status in _operations()[operation][2]["responses"]}
    assert str(expected) in documented
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == expected
    if expected == UN:
        assert response["WWW-Authenticate"].startswith('Bearer realm="entraide"')


# --------------------------------------------------------------------------------------------
# No IDOR: each object an operation names, but another fund's or another partner's, is not
# found with a token that may use the operation
# --------------------------------------------------------------------------------------------

# (operation, path parameter) -> who asks, and what to put in the parameter's place.
Foreign = tuple[str, Callable[[ApiWorld], str]]


def _reference_of(description: str) -> Callable[[ApiWorld], str]:
    return lambda w: w.foreign[description].reference


FOREIGN_OBJECTS: dict[tuple[str, str], tuple[str, list[Foreign]]] = {
    **{
        (operation, "slug"): ("partner", [("another fund", lambda w: w.other_fund.slug)])
        for operation in (
            "get_fund",
            "create_application",
            "list_applications",
            "get_application",
        )
    },
    ("get_application", "reference"): (
        "partner",
        [
            (description, _reference_of(description))
            for description in (
                "another partner's application of the fund",
                "an application made on the fund's portal",
                "the partner's application of another fund",
                "an application of another fund",
            )
        ],
    ),
    ("get_import", "task_id"): (
        "fund_operator",
        [
            (
                "another kind of task: an export of a fund's applications",
                lambda w: w.export_task_id,
            ),
            ("a task that does not exist", lambda w: "00000000-0000-0000-0000-000000000000"),
        ],
    ),
    ("get_batch_errors", "batch_id"): (
        "fund_operator",
        [
            ("a batch without an error report", lambda w: str(w.batch_without_report.pk)),
            ("a batch that does not exist", lambda w: "999999"),
        ],
    ),
}


def _object_cases() -> Iterator[Any]:
    for (operation, parameter), (actor, objects) in FOREIGN_OBJECTS.items():
        for description, _value in objects:
            yield pytest.param(
                operation, parameter, actor, description, id=f"{operation}-{description}"
            )


def test_every_path_parameter_of_every_operation_has_its_foreign_objects() -> None:
    parameters = {
        (name, parameter["name"])
        for name, (_method, _path, operation) in _operations().items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }
    assert parameters == set(FOREIGN_OBJECTS)


@pytest.mark.parametrize(("operation", "parameter", "actor", "description"), list(_object_cases()))
def test_another_funds_or_partners_object_is_not_found(
    world: ApiWorld, operation: str, parameter: str, actor: str, description: str
) -> None:
    call = REQUESTS[operation](world)
    # The request that works, with the parameter's value replaced by the foreign object's.
    assert _send(world, actor, call).status_code in (OK, CR)
    _, objects = FOREIGN_OBJECTS[(operation, parameter)]
    value = dict(objects)[description](world)
    own = _path_values(operation, call.path)[parameter]
    method, template, _ = _operations()[operation]
    path = template.replace("{" + parameter + "}", value)
    for other, own_value in _path_values(operation, call.path).items():
        path = path.replace("{" + other + "}", own_value)
    assert value != own

    response = _send(world, actor, Call(method, path, call.kwargs, {"Idempotency-Key": "key-2"}))

    assert response.status_code == NF, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def _path_values(operation: str, path: str) -> dict[str, str]:
    """The path parameters' values in ``path``, a path of ``operation``."""
    template = _operations()[operation][1]
    values = {}
    for part, concrete in zip(template.split("/"), path.split("/"), strict=True):
        if part.startswith("{"):
            values[part.strip("{}")] = concrete
    return values


def test_a_key_the_partner_used_in_one_fund_never_answers_that_funds_application_in_another(
    world: ApiWorld,
) -> None:
    """Idempotency keys are the partner's, across its funds: a retry with its other fund's
    token is refused, not answered with the first fund's application."""
    call = _submission(world.fund)
    first = _send(world, "partner", call)
    assert first.status_code == CR
    reference = first.json()["reference"]

    path = call.path.replace(world.fund.slug, world.other_fund.slug)
    replay = _send(world, "partner_of_other_fund", Call("post", path, call.kwargs, call.headers))

    assert replay.status_code == 422, replay.content
    assert replay.json()["code"] == "idempotency_key_reused"
    assert reference not in replay.content.decode()
