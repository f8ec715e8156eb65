"""Background work of the integrity checks. Each task is idempotent: running it twice does no
harm (a check finds the same links, raises no flag twice; a run already done is not run again)."""

from __future__ import annotations

from django_tasks import task

from entraide.integrity import services


@task()
def run_linkage(run_id: int) -> None:
    """The full duplicate check of a fund, requested from its page or the command."""
    services.perform_linkage_run(run_id)
