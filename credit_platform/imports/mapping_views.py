"""Pages of the mapping flow: upload a client's own file, map its columns, dry-run, import; the error file;
the historical load."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from credit_platform.models import ImportLog
from credit_platform.permissions import require_capability
from credit_platform.roles import Cap

from .engine import Rejected, importers, read_table
from .mapping import preview, suggest
from .models import HistoricalLoad, ImportDetail, StagedFile
from .services import _store, import_enqueue, mapping_for, mapping_save
from .spec import DATE_FORMATS, FileFormat
from .views import ENCODINGS, UploadForm

IGNORE = ""


def _member(request: HttpRequest, capability: str) -> Any:
    if not request.user.is_authenticated:
        raise Http404
    org = getattr(request, "organization", None)
    if org is None:
        raise Http404("You are not a member of any organization.")
    require_capability(request, capability)
    return org


class StageForm(UploadForm):
    """Kind and file only: encoding and formats are chosen on the mapping page, with a guess shown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["encoding"]
        del self.fields["dry_run"]
        self.fields["kind"].label = gettext_lazy("What it holds")
        self.fields["file"].label = gettext_lazy("File")
        self.fields["file"].help_text = gettext_lazy("CSV or XLSX with a header row; any column names.")


@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    org = _member(request, Cap.IMPORT)
    form = StageForm(request.POST or None, request.FILES or None, initial={"kind": "invoice_export"})
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        stored, _size = _store(org, upload.name, upload.chunks())
        staged = StagedFile.objects.create(organization=org, kind=form.cleaned_data["kind"],
                                           file_name=upload.name[:255], stored_path=str(stored), user=request.user)
        return redirect("import-map", pk=staged.pk)
    load = HistoricalLoad.objects.for_organization(org).filter(status=HistoricalLoad.Status.OPEN).first()
    status = 400 if request.method == "POST" else 200
    return render(request, "imports/new.html", {"form": form, "load": load}, status=status)


def _choices(cls: Any) -> list[tuple[str, str]]:
    return [(IGNORE, _("— ignore —")), *((c.name, c.name + (" *" if c.required else "")) for c in cls.columns)]


class FormatForm(forms.Form):
    encoding = forms.ChoiceField(label=gettext_lazy("Encoding"), choices=ENCODINGS)
    date_format = forms.ChoiceField(label=gettext_lazy("Dates"), choices=list(DATE_FORMATS.items()))
    decimal = forms.ChoiceField(label=gettext_lazy("Decimal mark"), choices=[(".", "."), (",", ",")])
    thousands = forms.ChoiceField(label=gettext_lazy("Thousands separator"), required=False, choices=[
        ("", gettext_lazy("none")), (",", ","), (".", "."), (" ", gettext_lazy("space")), ("'", "'")])
    historical = forms.BooleanField(label=gettext_lazy("Historical load (re-score once when the load is complete)"),
                                    required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decimal") and data.get("decimal") == data.get("thousands"):
            self.add_error("thousands", _("The thousands separator and the decimal mark must differ."))
        return data


@require_http_methods(["GET", "POST"])
def import_map(request: HttpRequest, pk: int) -> HttpResponse:
    org = _member(request, Cap.IMPORT)
    staged = get_object_or_404(StagedFile.objects.for_organization(org), pk=pk)
    cls = importers()[staged.kind]
    saved = mapping_for(org, staged.kind)
    encoding = request.POST.get("encoding") or request.GET.get("encoding") or (saved.encoding if saved else None)
    try:
        seen = preview(Path(staged.stored_path), staged.file_name, encoding)
    except Rejected as exc:
        seen = None
        messages.error(request, "; ".join(str(e) for e in exc.errors.items))
        if encoding:  # a wrong encoding chosen: show the guess instead
            try:
                seen = preview(Path(staged.stored_path), staged.file_name, None)
            except Rejected:
                seen = None
    if seen is None:
        return render(request, "imports/map.html", {"staged": staged, "unreadable": True}, status=400)
    guessed = seen.file_format
    fmt = FileFormat.from_dict(saved.file_format) if saved and saved.file_format else guessed
    offered = suggest(seen.headers, cls, saved.options() if saved else None)
    defaults_saved = saved.defaults if saved else {}
    fmt_form = FormatForm(request.POST or None, initial={
        "encoding": seen.encoding, "date_format": fmt.date_format, "decimal": fmt.decimal,
        "thousands": fmt.thousands, "historical": False})
    choices = _choices(cls)
    rows: list[dict[str, Any]] = []
    for i, header in enumerate(seen.headers):
        value = request.POST.get(f"col_{i}", offered.get(header, IGNORE)) if request.method == "POST" \
            else offered.get(header, IGNORE)
        rows.append({"index": i, "header": header, "samples": seen.samples[header], "value": value})
    defaults = [{"name": c.name, "required": c.required, "help": c.help,
                 "value": request.POST.get(f"default_{c.name}", defaults_saved.get(c.name, ""))
                 if request.method == "POST" else defaults_saved.get(c.name, "")} for c in cls.columns]
    if request.method == "POST" and request.POST.get("action") in ("dry_run", "import") and fmt_form.is_valid():
        columns = {r["header"]: r["value"] for r in rows}
        values = {d["name"]: d["value"].strip() for d in defaults if d["value"].strip()}
        data = fmt_form.cleaned_data
        file_format = {"date_format": data["date_format"], "decimal": data["decimal"],
                       "thousands": data["thousands"] or ""}
        try:
            mapping_save(organization=org, kind=staged.kind, columns=columns, defaults=values,
                         file_format=file_format, encoding=data["encoding"], actor=request.user)
        except (ValueError, ValidationError) as exc:
            messages.error(request, str(exc))
        else:
            dry_run = request.POST["action"] == "dry_run"
            options = {"columns": columns, "defaults": values, "format": file_format,
                       "historical": bool(data["historical"]), "staged": staged.pk}
            log = import_enqueue(organization=org, kind=staged.kind, file_name=staged.file_name, user=request.user,
                                 dry_run=dry_run, encoding=data["encoding"], options=options,
                                 stored=Path(staged.stored_path))
            return redirect("import-detail", pk=log.pk)
    context = {"staged": staged, "kind_label": cls.label, "kind_description": cls.description, "rows": rows,
               "choices": choices, "defaults": defaults, "fmt_form": fmt_form, "guessed": guessed,
               "guessed_encoding": seen.encoding, "rows_count": seen.rows_label,
               "saved": saved, "date_label": DATE_FORMATS.get(guessed.date_format, guessed.date_format)}
    refused = request.method == "POST" and request.POST.get("action") in ("dry_run", "import")
    return render(request, "imports/map.html", context, status=400 if refused else 200)


@require_POST
def import_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    """Import for real the file a dry run checked, with the same mapping and formats."""
    org = _member(request, Cap.IMPORT)
    log = get_object_or_404(ImportLog.objects.for_organization(org), pk=pk)
    detail = ImportDetail.objects.filter(log=log).first()
    if detail is None or detail.staged is None or not log.dry_run or log.status != ImportLog.Status.SUCCEEDED:
        raise Http404("Only a successful dry run of an uploaded file can be imported from here.")
    options = {**detail.options, "staged": detail.staged_id}
    encoding = options.pop("encoding", "utf-8")
    new = import_enqueue(organization=org, kind=log.kind, file_name=log.file_name, user=request.user,
                         encoding=encoding, options=options, stored=Path(detail.staged.stored_path))
    return redirect("import-detail", pk=new.pk)


def import_error_file(request: HttpRequest, pk: int) -> HttpResponse:
    """The rejected file's rows that have errors, as they were, with their errors in a last column: fix
    them in the spreadsheet and send the file again. Without the stored file: the list of errors."""
    org = _member(request, Cap.VIEW)
    log = get_object_or_404(ImportLog.objects.for_organization(org), pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{Path(log.file_name).stem}_errors.csv")
    response.write("\ufeff")  # Excel opens UTF-8 CSV with accents and Chinese intact
    writer = csv.writer(response)
    by_row: dict[int, list[str]] = {}
    for e in log.errors:
        text = f"{e['column']}: {e['reason']}" if e["column"] else e["reason"]
        by_row.setdefault(int(e["row"]), []).append(text)
    detail = ImportDetail.objects.filter(log=log).first()
    encoding = (detail.options.get("encoding") if detail else None) or "utf-8"
    try:
        frame = read_table(Path(log.stored_path), log.file_name, encoding) if log.stored_path else None
    except Rejected:
        frame = None
    if frame is None or not by_row or min(by_row) < 2:
        writer.writerow([_("row"), _("column"), _("value"), _("reason")])
        for e in log.errors:
            writer.writerow([e["row"], e["column"], e["value"], e["reason"]])
        return response
    columns = [c for c in frame.columns if c != "_row"]
    writer.writerow([_("row"), *columns, _("errors")])
    rows = frame.loc[frame["_row"].isin(list(by_row))]
    for values in rows[["_row", *columns]].itertuples(index=False):
        writer.writerow([values[0], *values[1:], "; ".join(by_row[int(values[0])])])
    return response
