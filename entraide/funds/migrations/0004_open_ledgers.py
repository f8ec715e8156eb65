"""Open the budget ledger of the funds that existed before it: the initial budget as the first
credit, and an award (reserved, or paid) for every approval already recorded. Those awards are
counted per fund only: the rules of the time did not promise one award per programme."""

from django.db import migrations


def open_ledgers(apps, schema_editor):
    Fund = apps.get_model("funds", "Fund")
    Award = apps.get_model("funds", "Award")
    BudgetEntry = apps.get_model("funds", "BudgetEntry")
    Decision = apps.get_model("review", "Decision")
    for fund in Fund.objects.order_by("pk"):
        credited = committed = paid = 0
        sequence = 0

        def append(kind, amount, award, at, recorded_by):
            nonlocal sequence
            sequence += 1
            BudgetEntry.objects.create(
                fund=fund,
                sequence=sequence,
                kind=kind,
                amount=amount,
                currency=fund.currency,
                award=award,
                credited=credited,
                committed=committed,
                paid=paid,
                recorded_by=recorded_by,
                recorded_at=at,
            )

        if fund.budget > 0:
            credited = fund.budget
            append("credit", fund.budget, None, fund.created_at, None)
        approvals = Decision.objects.filter(fund=fund, outcome="approved", amount__gt=0)
        for decision in approvals.select_related("application").order_by("decided_at", "pk"):
            application = decision.application
            is_paid = application.status == "paid"
            award = Award.objects.create(
                application=application,
                fund=fund,
                nir=application.nir,
                amount=decision.amount,
                currency=decision.currency,
                status="paid" if is_paid else "reserved",
                approved_by=decision.decided_by,
                queued_at=decision.decided_at,
                created_at=decision.decided_at,
                reserved_at=decision.decided_at,
            )
            committed += decision.amount
            append("reservation", decision.amount, award, decision.decided_at, decision.decided_by)
            if is_paid:
                paid += decision.amount
                append("payment", decision.amount, award, application.status_changed_at, None)


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0003_budget_ledger_and_awards"),
        ("review", "0003_four_eyes_assignment_flags_templates"),
    ]

    operations = [migrations.RunPython(open_ledgers, migrations.RunPython.noop)]
