"""Saved column mappings, uploads waiting for their mapping, what each import was told, historical loads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from credit_platform.models import ImportLog
from credit_platform.tenancy import TenantOwned


class ColumnMapping(TenantOwned):
    """How an organization's files of one kind are read: which file column feeds which template field
    (or is ignored), defaults for fields the file lacks, and the file's date and number formats. Saved when
    a file is imported through the mapping page, the API or the command, and offered for the next file."""

    kind = models.CharField(max_length=32)
    columns = models.JSONField(default=dict, blank=True)  # file header (normalised) -> field, "" = ignore
    defaults = models.JSONField(default=dict, blank=True)  # field -> text used where the file has none
    file_format = models.JSONField(default=dict, blank=True)  # FileFormat.as_dict()
    encoding = models.CharField(max_length=20, default="utf-8")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="columnmapping_unique_kind")]

    def __str__(self) -> str:
        return f"mapping of {self.kind} files"

    def options(self) -> dict[str, Any]:
        return {"columns": self.columns, "defaults": self.defaults, "format": self.file_format}


class StagedFile(TenantOwned):
    """An uploaded file waiting for its columns to be mapped (the mapping page reads its first rows)."""

    kind = models.CharField(max_length=32)
    file_name = models.CharField(max_length=255)
    stored_path = models.CharField(max_length=500)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    def __str__(self) -> str:
        return self.file_name


class ImportDetail(models.Model):
    """What an import was asked (mapping, formats, historical) and what it found, grouped."""

    log = models.OneToOneField(ImportLog, on_delete=models.CASCADE, primary_key=True, related_name="detail")
    options = models.JSONField(default=dict, blank=True)
    error_groups = models.JSONField(default=list, blank=True)  # [{column, reason, count, rows, example}]
    breakdown = models.JSONField(default=list, blank=True)  # [{kind, created, updated, unchanged}]
    ignored_columns = models.JSONField(default=list, blank=True)
    staged = models.ForeignKey(StagedFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"detail of import {self.log_id}"


class HistoricalLoad(TenantOwned):
    """While open, the organization is loading its history: imports do not trigger re-scores, and the
    nightly re-score, dunning and alert runs skip it. Completing it re-scores once (today and, on request,
    past dates so that grade history exists)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Loading")
        COMPLETED = "completed", _("Completed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    started_at = models.DateTimeField(db_default=Now(), editable=False)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    rescore_dates = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], condition=models.Q(status="open"),
                                               name="historicalload_one_open")]

    def __str__(self) -> str:
        return f"historical load ({self.status})"
