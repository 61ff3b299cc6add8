"""The import API: upload a file with the same mapping and formats as the pages (or the saved mapping),
and follow the import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from credit_platform.api import TenantAPIMixin
from credit_platform.models import ImportLog
from credit_platform.permissions import HasCapability
from credit_platform.roles import Cap

from .engine import importers
from .models import ImportDetail
from .services import import_enqueue, mapping_for, mapping_save
from .spec import DATE_FORMATS, FileFormat


class ImportInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[])
    file = serializers.FileField()
    mapping = serializers.CharField(required=False, help_text='JSON: {"columns": {header: field or ""}, '
                                                              '"defaults": {field: value}}')
    use_saved_mapping = serializers.BooleanField(default=True)
    save_mapping = serializers.BooleanField(default=False)
    date_format = serializers.ChoiceField(choices=list(DATE_FORMATS), required=False)
    decimal = serializers.ChoiceField(choices=[".", ","], required=False)
    thousands = serializers.ChoiceField(choices=["", ",", ".", " ", "'"], required=False, allow_blank=True)
    encoding = serializers.ChoiceField(choices=["utf-8", "gb18030", "cp1252"], required=False)
    dry_run = serializers.BooleanField(default=False)
    historical = serializers.BooleanField(default=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(importers())  # type: ignore[attr-defined]

    def validate_file(self, upload: Any) -> Any:
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(
                f"the file is {upload.size / 1e6:.0f} MB; the limit is {settings.IMPORT_MAX_UPLOAD_BYTES / 1e6:.0f} MB")
        if Path(upload.name).suffix.lower() not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm"):
            raise serializers.ValidationError("upload a .csv or .xlsx file")
        return upload

    def validate_mapping(self, text: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise serializers.ValidationError(f"is not JSON: {exc}") from None
        if not isinstance(value, dict) or not set(value) <= {"columns", "defaults"}:
            raise serializers.ValidationError('must be an object with "columns" and/or "defaults"')
        for part in ("columns", "defaults"):
            inner = value.get(part, {})
            if not isinstance(inner, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                       for k, v in inner.items()):
                raise serializers.ValidationError(f'"{part}" must map text to text')
        return value


def log_data(log: ImportLog) -> dict[str, Any]:
    detail = ImportDetail.objects.filter(log=log).first()
    return {
        "id": log.pk, "kind": log.kind, "file": log.file_name, "status": log.status, "dry_run": log.dry_run,
        "rows": log.rows, "created": log.created, "updated": log.updated, "unchanged": log.unchanged,
        "error_count": log.error_count, "message": log.message, "errors": log.errors[:100],
        "error_groups": detail.error_groups if detail else [], "breakdown": detail.breakdown if detail else [],
        "ignored_columns": detail.ignored_columns if detail else [],
    }


class ImportListCreate(TenantAPIMixin, APIView):
    """POST a file (multipart) to import it; GET the recent imports."""

    permission_classes = [HasCapability]
    write_capability = Cap.IMPORT

    def get(self, request: Request) -> Response:
        logs = ImportLog.objects.for_organization(request.organization)[:50]  # type: ignore[attr-defined]
        return Response([log_data(log) for log in logs])

    def post(self, request: Request) -> Response:
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        org = request.organization  # type: ignore[attr-defined]
        saved = mapping_for(org, v["kind"]) if v["use_saved_mapping"] and "mapping" not in v else None
        options: dict[str, Any] = dict(v.get("mapping") or (saved.options() if saved else {}))
        fmt = dict(options.get("format") or {})
        fmt.update({k: v[k] for k in ("date_format", "decimal", "thousands") if k in v})
        try:
            FileFormat.from_dict(fmt)
        except ValueError as exc:
            raise serializers.ValidationError({"thousands": [str(exc)]}) from None
        options["format"] = fmt
        options["historical"] = v["historical"]
        encoding = v.get("encoding") or (saved.encoding if saved else "utf-8")
        if v["save_mapping"] and "mapping" in v:
            mapping_save(organization=org, kind=v["kind"], columns=v["mapping"].get("columns", {}),
                         defaults=v["mapping"].get("defaults", {}), file_format=fmt, encoding=encoding,
                         actor=request.user)
        upload = v["file"]
        log = import_enqueue(organization=org, kind=v["kind"], file_name=upload.name, chunks=upload.chunks(),
                             user=request.user, dry_run=v["dry_run"], encoding=encoding, options=options)
        log.refresh_from_db()
        return Response(log_data(log), status=202 if log.status in ("queued", "running") else 201)


class ImportDetailAPI(TenantAPIMixin, APIView):
    permission_classes = [HasCapability]

    def get(self, request: Request, pk: int) -> Response:
        log = get_object_or_404(ImportLog.objects.for_organization(request.organization), pk=pk)  # type: ignore[attr-defined]
        return Response(log_data(log))
