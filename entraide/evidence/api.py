"""The evidence API, for the scripts of a fund operator: send a file to import, follow its import,
fetch a batch's error report.

Mounted on the intake API (``/api/v1/evidence/...``, :func:`register`), whose problems (RFC 9457)
it answers with, but authenticated by a staff member's personal token (``entraide accounts
token``): a script acts with the permissions of the person it belongs to.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django_tasks.base import TaskResultStatus
from ninja import Field, File, Form, NinjaAPI, Router, Schema, Status
from ninja.errors import AuthenticationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from entraide.accounts.services import authenticate_api_token
from entraide.core.progress import progress_of
from entraide.core.tasks_lookup import task_result_or_404
from entraide.evidence import permissions, selectors, services
from entraide.evidence.tasks import import_uploaded_evidence
from entraide.evidence.views import error_report_download
from entraide.intake import problems
from entraide.intake.schemas import Problem
from entraide.intake.throttling import refused_tokens

router = Router(tags=["evidence"])


class ApiTokenRequired(AuthenticationError):
    """No personal API token, or not a valid one."""


class StaffBearer(HttpBearer):
    def __call__(self, request: HttpRequest) -> Any:
        refused_tokens.check(request)  # an address that guessed too many tokens waits
        user = super().__call__(request)
        if user is None:
            refused_tokens.refused(request)
            # Said with its own problem: the intake API's 401 asks for a partner's token.
            raise ApiTokenRequired()
        return user

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return authenticate_api_token(token)


staff_auth = StaffBearer()


def user_of(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def register(api: NinjaAPI) -> None:
    api.add_router("/v1/evidence/", router)

    @api.exception_handler(ApiTokenRequired)
    def _api_token_required(request: HttpRequest, exc: ApiTokenRequired) -> HttpResponse:
        return problems.unauthorized(
            token_sent=bool(request.headers.get("Authorization")),
            detail=_(
                "Send a valid personal API token in the header Authorization: Bearer <token>."
            ),
        )


class ImportLinks(Schema):
    self: str = Field(description="Where to follow the import.")


class ImportAccepted(Schema):
    task_id: str
    status: Literal["queued"]
    links: ImportLinks


class ProgressOut(Schema):
    done: int = Field(description="Rows handled so far.")
    total: int | None = Field(description="Rows to handle, once the file has been read.")


class StatusLinks(ImportLinks):
    errors: str | None = Field(description="The error report of the batch, if it has one.")


class ImportStatus(Schema):
    task_id: str
    status: Literal["queued", "running", "done", "failed"] = Field(
        description="`failed`: an error on our side (a refused file is `done`, see `result`)."
    )
    progress: ProgressOut | None
    result: dict[str, Any] | None = Field(
        description="When done: `outcome` `imported` with the batch's counts (`batch`, `kind`, "
        "`status`, `read`, `imported`, `rejected`, `duplicates`, `period`, `warnings`), or "
        "`refused` with a `code` (`already_imported`: `batch` has the file; "
        "`import_file_invalid`) and a `message`.",
        examples=[
            {
                "outcome": "imported",
                "batch": 12,
                "kind": "declarations",
                "status": "done",
                "read": 120000,
                "imported": 119950,
                "rejected": 30,
                "duplicates": 20,
                "period": ["2019-09-01", "2020-02-29"],
                "warnings": [],
            }
        ],
    )
    links: StatusLinks


ERRORS: dict[int, Any] = {401: Problem, 403: Problem, 429: Problem}
TASK_STATUS = {
    TaskResultStatus.READY: "queued",
    TaskResultStatus.RUNNING: "running",
    TaskResultStatus.SUCCESSFUL: "done",
    TaskResultStatus.FAILED: "failed",
}


def _status_url(task_id: str) -> str:
    return reverse("intake-api:evidence_import", kwargs={"task_id": task_id})


@router.post(
    "/imports",
    auth=staff_auth,
    response={202: ImportAccepted, **ERRORS, 422: Problem},
    url_name="evidence_imports",
    summary="Send a file of records to import",
    description=(
        "`multipart/form-data` with `kind` (`declarations`, `rights`, `benefits`, "
        "`cancellations`), `file` (CSV or Parquet with the columns of its kind) and, optionally, "
        "`source`. 202: the import runs in the background; follow it at `links.self` (also in "
        "`Location`). Needs the permission to import evidence."
    ),
)
def create_import(
    request: HttpRequest,
    response: HttpResponse,
    kind: Form[str] = "",
    source: Form[str] = "",
    file: File[UploadedFile | None] = None,
) -> Status[dict[str, Any]]:
    task_id = services.start_import(
        actor=user_of(request), kind=kind, uploaded_file=file, source=source
    )
    response["Location"] = _status_url(task_id)
    return Status(
        202,
        {"task_id": task_id, "status": "queued", "links": {"self": _status_url(task_id)}},
    )


@router.get(
    "/imports/{task_id}",
    auth=staff_auth,
    response={200: ImportStatus, **ERRORS, 404: Problem},
    url_name="evidence_import",
    summary="Follow an import",
)
def get_import(request: HttpRequest, task_id: str) -> dict[str, Any]:
    permissions.require(user_of(request), permissions.VIEW_BATCHES)
    result = task_result_or_404(import_uploaded_evidence, task_id)
    progress = progress_of(task_id)
    summary = result.return_value if result.status == TaskResultStatus.SUCCESSFUL else None
    errors = None
    if summary is not None and summary["outcome"] == "imported" and summary["rejected"]:
        errors = reverse("intake-api:evidence_batch_errors", kwargs={"batch_id": summary["batch"]})
    return {
        "task_id": task_id,
        "status": TASK_STATUS[result.status],
        "progress": {"done": progress.done, "total": progress.total} if progress else None,
        "result": summary,
        "links": {"self": _status_url(task_id), "errors": errors},
    }


@router.get(
    "/batches/{batch_id}/errors",
    auth=staff_auth,
    # 422: a batch id that is not a number.
    response={200: None, **ERRORS, 404: Problem, 422: Problem},
    url_name="evidence_batch_errors",
    summary="The error report of a batch (CSV)",
    description="`line`, `column`, `code`, `message` of each problem of a rejected row.",
    openapi_extra={
        "responses": {200: {"description": "CSV", "content": {"text/csv": {"schema": {}}}}}
    },
)
def get_batch_errors(request: HttpRequest, batch_id: int) -> FileResponse:
    return error_report_download(selectors.batch_for_staff(user_of(request), batch_id))
