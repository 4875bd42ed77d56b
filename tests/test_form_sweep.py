"""Every form the site shows, fed control characters, line breaks, bidi overrides, markup and
100 KB strings in every text field: never a 500, never an unescaped echo, never a control
character stored. The forms are found by reading the pages, so a form added later is swept
without touching this file."""

from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.apps import apps
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.validators import ControlCharacterValidator
from tests.conftest import verify_two_factor
from tests.test_security_sweep import samples  # noqa: F401 - a fixture
from tests.urlconf import merchant_urls

HOSTILE = [
    "Acme Store\r\nBcc: victim@evil.test",
    "\u202eevil\u202c name",
    "nul\x00and\x1bescape",
    '<script>alert(1)</script>"><img src=x onerror=alert(2)>',
    "x" * 100_000,
]
TEXT_INPUTS = {"text", "search", "email", "url", "tel", "number", "date", ""}


class _Forms(HTMLParser):
    """The POST forms of a page: action and fields (name, kind, default value)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if (attrs.get("method") or "get").lower() == "post":
                self._form = {"action": attrs.get("action") or "", "fields": []}
                self.forms.append(self._form)
            return
        if self._form is None or not attrs.get("name"):
            if tag == "option" and self._select and self._form is not None:
                self._form["fields"].append((self._select, "select", attrs.get("value", "")))
                self._select = None
            return
        name = attrs["name"]
        if tag == "textarea":
            self._form["fields"].append((name, "text", ""))
        elif tag == "select":
            self._select = name
        elif tag == "input":
            kind = (attrs.get("type") or "").lower()
            if kind in TEXT_INPUTS:
                self._form["fields"].append((name, "text", attrs.get("value", "")))
            elif kind in {"hidden", "radio", "checkbox"} and "checked" in attrs or kind == "hidden":
                self._form["fields"].append((name, kind, attrs.get("value", "on")))
            elif kind == "radio":
                self._form["fields"].append((name, "radio-unchecked", attrs.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def _forms_of(client: Client, url: str) -> list[dict]:
    response = client.get(url)
    if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
        return []
    parser = _Forms()
    parser.feed(response.content.decode())
    for form in parser.forms:
        form["url"] = urljoin(url, form["action"]) if form["action"] else url
    return parser.forms


def _payload(form: dict, hostile: str) -> dict:
    data: dict = {}
    for name, kind, value in form["fields"]:
        if kind == "text":
            data[name] = hostile
        elif kind == "radio-unchecked":
            data.setdefault(name, value)
        elif kind in {"hidden", "checkbox", "radio", "select"}:
            data[name] = value if kind != "radio" else value
    return data


def _stored_control_characters() -> list[str]:
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            validators = getattr(field, "validators", [])
            for validator in validators:
                if isinstance(validator, ControlCharacterValidator):
                    for value in model.objects.values_list(field.name, flat=True):
                        try:
                            validator(value)
                        except Exception:  # noqa: BLE001 - the validator's refusal
                            found.append(f"{model._meta.label}.{field.name}={value[:40]!r}")
    return found


# Forms that end the session being swept (covered by their own tests).
SIGN_OUT = ("/logout/", "/admin/logout/")


def _sweep(client: Client, urls: list[str]) -> set[str]:
    """POST every hostile value into every form of these pages; return the fields met."""
    met = set()
    for url in urls:
        for form in _forms_of(client, url):
            if form["url"].endswith(SIGN_OUT):
                continue
            for hostile in HOSTILE:
                response = client.post(form["url"], _payload(form, hostile))
                assert response.status_code < 500, (form["url"], hostile[:30])
                body = response.content.decode(errors="replace")
                assert "<script>alert(1)</script>" not in body, form["url"]
                assert "<img src=x onerror" not in body, form["url"]
            met |= {name for name, kind, _value in form["fields"] if kind == "text"}
    return met


@pytest.mark.usefixtures("analyst")
def test_every_merchant_form__survives_hostile_text(samples, owner, client):  # noqa: F811
    client.force_login(owner)
    verify_two_factor(client, owner)
    met = _sweep(client, merchant_urls(samples))
    assert {"name", "subject", "message", "label", "email"} <= met
    assert _stored_control_characters() == []
    assert all("\n" not in message.subject for message in mail.outbox)


def test_public_forms__survive_hostile_text(client, owner):
    met = _sweep(client, [reverse("accounts:login"), reverse("accounts:password_reset")])
    assert {"username", "email"} <= met


def test_admin_forms_agents_use__survive_hostile_text(account, owner, csm):
    """Enter account and turn remote access off, as a customer success manager."""
    from tests.remote_access.factories import GrantFactory

    GrantFactory(account=account, granted_by=owner)
    client = Client()
    client.force_login(csm)
    verify_two_factor(client, csm)
    pages = [
        reverse("admin:accounts_account_enter", args=[account.pk]),
        reverse("admin:accounts_account_disable_remote_access", args=[account.pk]),
    ]
    met = _sweep(client, pages)
    assert {"ticket_reference", "note", "reason"} <= met
    assert _stored_control_characters() == []
