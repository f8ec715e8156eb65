"""Background work of reporting: exports of a fund's applications, showing their progress."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task
from django_tasks.base import TaskContext

from entraide.applications.selectors import ListFilters, applications_for_staff
from entraide.core.progress import report_progress
from entraide.funds import selectors as fund_selectors
from entraide.funds.permissions import Capability, require
from entraide.reporting import exports


@task(takes_context=True)
def export_applications(
    context: TaskContext,
    fund_id: int,
    requester_id: int,
    filters: dict[str, Any],
    file_format: str,
    language: str,
) -> str:
    """Write the applications the fund's list shows the requester with ``filters`` (a
    ``ListFilters`` as a dict) to a ``file_format`` file, headed in ``language``; the file's
    path. Run again, it writes the same file in the same place."""
    fund = fund_selectors.fund_by_id(fund_id)
    requester = get_user_model().objects.get(pk=requester_id)
    # Checked again here: the role may have been taken away since the export was asked for.
    require(requester, fund, Capability.EXPORT)
    exports.delete_old_exports()
    listed = applications_for_staff(requester, fund, ListFilters(**filters))
    total = listed.count()
    with translation.override(language):
        report_progress(context, done=0, total=total, label=_("Exporting applications"))
        path = exports.path_of(str(context.task_result.id), file_format)
        done = exports.write_export(
            path,
            file_format,
            exports.rows_of(listed).iterator(chunk_size=exports.CHUNK_SIZE),
            fund=fund,
            language=language,
            progress=lambda done: report_progress(context, done=done, total=max(total, done)),
        )
    report_progress(context, done=done, total=done, output_path=str(path))
    return str(path)
