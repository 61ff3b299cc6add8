from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credit_platform.models import ImportLog
from credit_platform.permissions import require_capability
from credit_platform.roles import Cap

from .engine import importers
from .services import import_enqueue

ENCODINGS = [("utf-8", "UTF-8"), ("gb18030", "GB18030 / GBK (中文 Excel)"), ("cp1252", "Windows-1252 (Western)")]


class UploadForm(forms.Form):
    kind = forms.ChoiceField()
    file = forms.FileField(help_text="CSV (comma, semicolon or tab separated) or XLSX, first row = headers")
    encoding = forms.ChoiceField(choices=ENCODINGS, initial="utf-8", help_text="for CSV files")
    dry_run = forms.BooleanField(required=False, help_text="validate only, write nothing")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [(k, cls.label) for k, cls in importers().items()]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1e6:.0f} MB; the limit is {settings.IMPORT_MAX_UPLOAD_BYTES / 1e6:.0f} MB."
            )
        suffix = Path(upload.name).suffix.lower()
        if suffix not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm"):
            raise forms.ValidationError("Upload a .csv or .xlsx file.")
        if suffix in (".xlsx", ".xlsm") and not zipfile.is_zipfile(upload):
            raise forms.ValidationError(
                f"{upload.name} is not an Excel workbook (an .xlsx file is a ZIP archive; this one is not, "
                "perhaps a CSV saved under an .xlsx name): save it from Excel as .xlsx, or upload it as .csv."
            )
        upload.seek(0)
        return upload


def _org(request: HttpRequest) -> Any:
    if getattr(request, "organization", None) is None:
        raise Http404("You are not a member of any organization.")
    return request.organization  # type: ignore[attr-defined]


@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"{settings.LOGIN_URL}?next={request.path}")
    org = _org(request)
    require_capability(request, Cap.VIEW)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        require_capability(request, Cap.IMPORT)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            log = import_enqueue(organization=org, kind=form.cleaned_data["kind"], file_name=upload.name,
                                 chunks=upload.chunks(), user=request.user, dry_run=form.cleaned_data["dry_run"],
                                 encoding=form.cleaned_data["encoding"])
            if form.cleaned_data["dry_run"]:
                messages.info(request, _("%(name)s is being checked (dry run): nothing will be written.")
                              % {"name": upload.name})
            else:
                messages.info(request, f"{upload.name} is being imported.")
            return redirect("import-detail", pk=log.pk)
    logs = ImportLog.objects.for_organization(org).select_related("user")[:50]
    status = 400 if request.method == "POST" else 200  # a refused upload: the form with its errors
    return render(request, "imports/list.html", {"form": form, "logs": logs, "kinds": importers()}, status=status)


def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"{settings.LOGIN_URL}?next={request.path}")
    org = _org(request)
    require_capability(request, Cap.VIEW)
    log = get_object_or_404(ImportLog.objects.for_organization(org), pk=pk)
    return render(request, "imports/detail.html", {"log": log, "importer": importers().get(log.kind)})


@login_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """A CSV with the kind's headers, so that a file starts right (for members: the file formats are part of
    the product's pages, not public)."""
    _org(request)
    require_capability(request, Cap.VIEW)
    cls = importers().get(kind)
    if cls is None:
        raise Http404("Unknown import kind.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{kind}_template.csv")
    csv.writer(response).writerow(cls.column_names())
    return response
