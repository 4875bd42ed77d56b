"""Text a person types cannot break what it flows into (issue 15, finding 1, as a class):
every text field refuses control characters, and what reaches a mail header, a CSV cell or
a log line is made single-line on the way."""

import csv
import importlib
import inspect
import io
import logging
import pkgutil

import pytest
from django import forms
from django.apps import apps
from django.db import models
from django.urls import reverse

from accounts.csv_export import csv_cell, csv_fields
from accounts.logs import SingleLineFormatter
from accounts.models import Account
from accounts.validators import ControlCharacterValidator, single_line

APPS = ("accounts", "remote_access", "audience", "health")

# Text columns people never type into, and why.
NOT_TYPED = {
    "accounts.User.password": "a hash",
    "accounts.User.email": "EmailField: the email validator refuses control characters",
    "accounts.Account.timezone": "chosen from the IANA list (validate_timezone)",
    "accounts.Invitation.token_hash": "a hash",
    "accounts.Invitation.email": "EmailField",
    "accounts.TeamEvent.actor_description": "written by the site from validated names",
    "accounts.TeamEvent.summary": "written by the site from validated names",
    "accounts.Integration.api_key_encrypted": "ciphertext",
    "accounts.Integration.webhook_secret_encrypted": "ciphertext",
    "accounts.Integration.store_url": "URLField: the URL validator refuses control characters",
    "accounts.ApiKey.prefix": "generated",
    "accounts.ApiKey.key_hash": "a hash",
    "remote_access.RepresentativeSession.user_agent": "a header; shown escaped in admin only",
    "remote_access.AccessEvent.actor_role": "written by the site (a role's value)",
    "remote_access.AccessEvent.object_type": "written by the site",
    "remote_access.AccessEvent.object_id": "written by the site (a view's name, an id)",
    "remote_access.AccessEvent.method": "an HTTP method Django routed",
    "remote_access.AccessEvent.path": "a request path Django routed; shown escaped",
    "health.Heartbeat.name": "written by the site (which process beat)",
    "audience.ImportJob.file_name": "an upload's name; shown escaped, never in a header",
    "audience.ImportJob.error": "written by the site",
    "audience.ImportRejection.email": "a CSV cell quoted back to its uploader, escaped",
    "audience.ImportRejection.reason": "written by the site",
    "audience.Profile.email": "checked by the import (EmailValidator)",
    "audience.Profile.first_name": "imported data: stored as given, escaped on display",
    "audience.Profile.last_name": "imported data: stored as given, escaped on display",
    "audience.Profile.country": "imported data: stored as given, escaped on display",
}


def _has_control_validator(field) -> bool:
    return any(isinstance(v, ControlCharacterValidator) for v in field.validators)


def test_every_typed_model_text_field_refuses_control_characters():
    """A text column added later must either validate or say here why it need not."""
    missing = []
    for app_label in APPS:
        for model in apps.get_app_config(app_label).get_models():
            for field in model._meta.get_fields():
                if not isinstance(field, models.CharField | models.TextField) or field.choices:
                    continue
                label = f"{model._meta.label}.{field.name}"
                if label not in NOT_TYPED and not _has_control_validator(field):
                    missing.append(label)
    assert missing == []


def _project_forms():
    for app_label in APPS:
        package = importlib.import_module(app_label)
        for info in pkgutil.walk_packages(package.__path__, f"{app_label}."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            module = importlib.import_module(info.name)
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                    yield cls


EXEMPT_WIDGETS = (forms.PasswordInput, forms.HiddenInput)
SELF_VALIDATING = (forms.EmailField, forms.URLField, forms.SlugField, forms.UUIDField)


def test_every_plain_form_text_field_refuses_control_characters():
    """Every CharField a form declares (ModelForms get theirs from the model)."""
    found, missing = [], []
    for form_class in _project_forms():
        for name, field in form_class.base_fields.items():
            if not isinstance(field, forms.CharField) or isinstance(field, SELF_VALIDATING):
                continue
            if isinstance(field.widget, EXEMPT_WIDGETS):
                continue
            found.append(f"{form_class.__name__}.{name}")
            if not _has_control_validator(field):
                missing.append(f"{form_class.__module__}.{form_class.__name__}.{name}")
    assert len(found) > 5
    assert missing == []


def test_account_name_with_line_break__refused_and_nothing_changes(owner_client, account):
    """Finding 1: 'Acme Store\\r\\nBcc: …' as the account name is a form error."""
    response = owner_client.post(
        reverse("accounts:settings_general"),
        {"name": "Acme Store\r\nBcc: victim@evil.test", "timezone": "UTC"},
    )
    assert response.status_code == 400
    assert "type it on one line" in response.content.decode()
    account.refresh_from_db()
    assert account.name == "Acme Store"


@pytest.mark.parametrize(
    "name", ["Acme\u202eerotS", "Acme\x00", "Acme\x1b[31m", "Acme\u2028Store", "a\tb"]
)
def test_account_name__refuses_each_kind_of_control_character(name, owner_client, account):
    response = owner_client.post(
        reverse("accounts:settings_general"), {"name": name, "timezone": "UTC"}
    )
    assert response.status_code == 400
    account.refresh_from_db()
    assert account.name == "Acme Store"


def test_names_people_use__are_accepted(owner_client, account):
    name = "Zoë & Ørsted — 👩\u200d💻 شركة"
    response = owner_client.post(
        reverse("accounts:settings_general"), {"name": name, "timezone": "UTC"}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == name


def test_data_migration__cleans_rows_written_before_the_validator(account, owner):
    migration = importlib.import_module("accounts.migrations.0004_single_line_text")
    Account.objects.filter(pk=account.pk).update(name="Acme\r\nBcc: x@evil.test")
    type(owner).objects.filter(pk=owner.pk).update(full_name="Olivia\u202e Owner")
    migration.clean_single_line_fields(apps, None)
    account.refresh_from_db()
    owner.refresh_from_db()
    assert account.name == "Acme Bcc: x@evil.test"
    assert owner.full_name == "Olivia  Owner"


def test_csv_fields__what_csv_writer_writes_of_csv_cells():
    """The export's fast path (csv_fields joined with commas) writes what csv.writer writes
    of csv_cell, whatever the texts hold and wherever they sit in the row."""
    texts = [
        "plain", "", " lead", "trail ", "=1+1", "-1", "+1", "@a", " =1", "a,b", 'a"b',
        "x\ny", "\r\n=HYPERLINK(1)", "\u202eabc", "tab\tin", "a\x85b", "\u00a0nbsp",
        "\u3000wide", "e\u200dz", "a\x00b", "\u00a6", "\u00a6 ", " \u00a6", "=\u00a6", "a\u00a6=b",
    ]  # fmt: skip
    for text in texts:
        for other in ("ok", "", " =", "@", "\u00a6"):
            for row in ((text, other), (other, text), (text, other, text)):
                written = io.StringIO()
                csv.writer(written).writerow([csv_cell(cell) for cell in row])
                assert ",".join(csv_fields(*row)) + "\r\n" == written.getvalue(), row


def test_csv_cell__one_line_and_formulas_defused():
    assert csv_cell("a\r\nb") == "a b"
    assert csv_cell("\r\n=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell(None) == ""
    assert single_line("x\u202ey") == "x y"


def test_log_lines__cannot_be_forged():
    formatter = SingleLineFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "Not Found: %s", ("/a\r\nINFO forged",), None
    )
    assert formatter.format(record) == "WARNING Not Found: /a\\r\\nINFO forged"


def test_safe_next_url__only_paths_on_this_site(rf):
    from accounts.http import safe_next_url

    request = rf.get("/")
    for hostile in ["0", "accounts:home", "https://evil.test/", "//evil.test/x", "", None]:
        assert safe_next_url(request, hostile, default="/home/") == "/home/"
    assert safe_next_url(request, "/settings/?tab=1", default="/") == "/settings/?tab=1"
