from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TaskProgress(models.Model):
    """How far a background task has got, so a page or a command can show a progress bar.

    Keyed by the task result id of the tasks backend; written by the task itself through
    :func:`entraide.core.progress.report_progress`.
    """

    task_result_id = models.CharField(_("task"), max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=200, blank=True)
    done = models.PositiveBigIntegerField(_("done"), default=0)
    total = models.PositiveBigIntegerField(_("total"), null=True, blank=True)
    output_path = models.CharField(_("output file"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("task progress")
        verbose_name_plural = _("task progress")

    def __str__(self) -> str:
        return f"{self.task_result_id}: {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))
