"""The same mapping and formats through the API (file upload) and the command line."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from credit_platform.imports.models import ColumnMapping
from credit_platform.imports.services import mapping_save
from credit_platform.roles import Role
from customers.models import Customer
from receivables.models import Invoice

from .export_data import MAPPING_COLUMNS, MAPPING_FORMAT, make_export, to_csv_text

pytestmark = pytest.mark.django_db


def _file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("export.csv", text.encode(), content_type="text/csv")


def test_api_upload_with_a_mapping_then_with_the_saved_one(client, org, member, django_capture_on_commit_callbacks):
    client.force_login(member(org, Role.INTEGRATOR))
    text = to_csv_text(make_export(customers=4, invoices=25))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", {
            "kind": "invoice_export", "file": _file(text), "mapping": json.dumps({"columns": MAPPING_COLUMNS}),
            "date_format": "%d/%m/%Y", "save_mapping": "true", "dry_run": "true"})
    assert response.status_code in (201, 202), response.content
    body = response.json()
    log_id = body["id"]
    detail = client.get(f"/api/v1/imports/{log_id}/").json()
    assert detail["status"] == "succeeded" and detail["dry_run"]
    assert {b["kind"]: b["created"] for b in detail["breakdown"]}["invoices"] == 25
    assert not Invoice.objects.exists()
    assert ColumnMapping.objects.get(organization=org).file_format["date_format"] == "%d/%m/%Y"
    # the next upload names no mapping: the saved one is used
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post("/api/v1/imports/", {"kind": "invoice_export", "file": _file(text)})
    assert client.get(f"/api/v1/imports/{second.json()['id']}/").json()["status"] == "succeeded"
    assert Invoice.objects.for_organization(org).count() == 25


def test_api_refuses_bad_input_naming_the_field(client, org, member):
    client.force_login(member(org, Role.INTEGRATOR))
    bad = client.post("/api/v1/imports/", {"kind": "invoice_export", "file": _file("a\n1\n"), "mapping": "{nope"})
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "mapping"
    bad = client.post("/api/v1/imports/", {"kind": "invoice_export", "file": _file("a\n1\n"),
                                           "date_format": "%d/%m/%y"})
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "date_format"
    client.force_login(member(org, Role.AUDITOR))
    assert client.post("/api/v1/imports/", {"kind": "invoices", "file": _file("a\n1\n")}).status_code == 403


def test_api_import_of_another_tenant_is_not_found(client, org, other_org, member, django_capture_on_commit_callbacks):
    client.force_login(member(other_org, Role.INTEGRATOR))
    with django_capture_on_commit_callbacks(execute=True):
        log_id = client.post("/api/v1/imports/", {"kind": "invoices", "file": _file("a\n1\n")}).json()["id"]
    client.force_login(member(org, Role.INTEGRATOR))
    assert client.get(f"/api/v1/imports/{log_id}/").status_code == 404


def test_command_with_a_mapping_file_and_then_the_saved_mapping(tmp_path, org, capsys):
    path = tmp_path / "export.csv"
    path.write_text(to_csv_text(make_export(customers=3, invoices=15)))
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"columns": MAPPING_COLUMNS, "defaults": {"sector": "G"}}))
    call_command("import", "invoice_export", str(path), "--mapping", str(mapping), "--date-format", "%d/%m/%Y",
                 "--save-mapping", "--dry-run")
    assert "customers: 3 created" in capsys.readouterr().out
    assert not Customer.objects.exists()
    call_command("import", "invoice_export", str(path), "--saved-mapping", "--historical")
    assert set(Customer.objects.for_organization(org).values_list("sector_id", flat=True)) == {"G"}
    assert Invoice.objects.for_organization(org).count() == 15


def test_command_errors_name_what_to_do(tmp_path, org, other_org):
    path = tmp_path / "export.csv"
    path.write_text("a\n1\n")
    with pytest.raises(CommandError, match="acme, globex"):
        call_command("import", "invoices", str(path))
    with pytest.raises(CommandError, match="No saved mapping"):
        call_command("import", "invoices", str(path), "--organization", "acme", "--saved-mapping")
    mapping_save(organization=org, kind="invoices", columns={"a": "number"}, defaults={}, file_format=MAPPING_FORMAT)
    with pytest.raises(CommandError, match="differ"):
        call_command("import", "invoices", str(path), "--organization", "acme", "--saved-mapping",
                     "--decimal", ",", "--thousands", ",")


def test_command_without_any_organization_says_how_to_create_one(tmp_path, db):
    path = tmp_path / "export.csv"
    path.write_text("a\n1\n")
    with pytest.raises(CommandError, match="create_organization"):
        call_command("import", "invoices", str(path))
