import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0004_open_ledgers"),
        ("review", "0003_four_eyes_assignment_flags_templates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BulkApproval",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("requested_at", models.DateTimeField(verbose_name="requested at")),
                ("application_ids", models.JSONField(default=list, verbose_name="applications")),
                ("total", models.DecimalField(decimal_places=2, max_digits=16, verbose_name="total")),
                (
                    "status",
                    models.CharField(
                        choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                        default="queued",
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                ("task_id", models.CharField(blank=True, max_length=64, verbose_name="task")),
                ("handled", models.PositiveIntegerField(default=0, verbose_name="handled")),
                ("approved", models.PositiveIntegerField(default=0, verbose_name="approved")),
                ("waitlisted", models.PositiveIntegerField(default=0, verbose_name="waiting for budget")),
                ("skipped", models.PositiveIntegerField(default=0, verbose_name="skipped")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished at")),
                (
                    "fund",
                    models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="funds.fund", verbose_name="fund"),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="requested by",
                    ),
                ),
            ],
            options={"verbose_name": "bulk approval", "verbose_name_plural": "bulk approvals"},
        ),
    ]
