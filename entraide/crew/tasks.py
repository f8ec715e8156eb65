"""Background work of crew relief: granting an approved run's payouts, and telling crew members
of their grant and of its payment. Each task can run again after a crash: a payout is granted
once."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks import task
from django_tasks.base import TaskContext

from entraide.core.progress import report_progress
from entraide.core.tasks import enqueue_with_transaction
from entraide.crew import emails, relief, relief_selectors


@task(takes_context=True)
def award_run(context: TaskContext, run_id: int) -> dict[str, int]:
    """Grant each proposed payout of an approved run from its crew relief fund, a chunk per
    transaction, showing how far it got."""
    run = relief_selectors.run_by_id(run_id)
    chunks = relief.payouts_to_award(run)
    total = sum(len(payout_ids) for _fund_id, payout_ids in chunks)
    report_progress(context, done=0, total=total, label=_("Granting the crew's pay"))
    done = 0
    for fund_id, payout_ids in chunks:
        done += relief.award_payouts(run=run, fund_id=fund_id, payout_ids=payout_ids)
        report_progress(context, done=done, total=total)
    relief.finish_awards(run)
    return {"awarded": done}


@task()
def tell_crew_member_granted(payout_id: int) -> None:
    """E-mail a crew member their grant, with its attestation once the budget covers it."""
    emails.send_granted(payout_id)


@task()
def tell_crew_paid(batch_id: int) -> None:
    """E-mail the crew members paid in a payment batch sent to the bank, with the attestation
    of the payment: they have no account to read it in. One task per crew member, all
    enqueued together: an e-mail that fails (its address, the mail server) fails alone,
    without stopping the others, and is run again alone, without writing twice to those told
    already."""
    with transaction.atomic(durable=True):
        for payout_id in emails.paid_in(batch_id):
            enqueue_with_transaction(tell_crew_member_paid, payout_id)


@task()
def tell_crew_member_paid(payout_id: int) -> None:
    """E-mail a crew member the payment of their grant, with its attestation."""
    emails.send_paid(payout_id)
