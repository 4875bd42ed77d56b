"""Every name a template looks up is there.

Django's template language shows a missing name as nothing, and finds it missing by trying
a key, an attribute and an index in turn, each failing with an exception: the Security
tab's history asked every event `item.is_visit`, which only visits had — three exceptions a
row. A missing name is also how a typo hides. Every merchant page is rendered with nothing
kept (GET), as an Owner whose history holds an event and a visit, as an Admin who signs in
with two factors, and as the representative in the visit; no lookup may find nothing."""

from collections import Counter

import pytest
from django.core.cache import caches
from django.template import base
from django.test import Client
from django.urls import reverse

from tests.conftest import verify_two_factor, with_authenticator
from tests.remote_access.factories import AccessEventFactory
from tests.test_security_sweep import samples  # noqa: F401 - a fixture
from tests.urlconf import merchant_urls


@pytest.fixture
def missed(monkeypatch) -> Counter:
    """The names templates looked up and did not find, with the template they were in."""
    found_missing = Counter()
    resolve = base.Variable._resolve_lookup

    def recorded(variable, context):
        try:
            return resolve(variable, context)
        except base.VariableDoesNotExist:
            template = getattr(context, "template", None)
            found_missing[(variable.var, template.origin.template_name if template else "")] += 1
            raise

    monkeypatch.setattr(base.Variable, "_resolve_lookup", recorded)
    return found_missing


def _render_all(client: Client, urls: list[str]) -> int:
    rendered = 0
    for url in urls:
        caches["fragments"].clear()
        response = client.get(url)
        rendered += response.status_code == 200 and response.get("Content-Type", "").startswith(
            "text/html"
        )
    return rendered


def test_no_page_looks_up_a_name_that_is_not_there(
    samples,  # noqa: F811
    account,
    owner,
    admin,
    support_staff,
    missed,
):
    AccessEventFactory(account=account)  # the history holds an event of its own too
    staff = Client()  # `samples` holds a live grant
    staff.force_login(support_staff)
    verify_two_factor(staff, support_staff)
    enter = reverse("admin:accounts_account_enter", args=[account.pk])
    assert staff.post(enter, {"ticket_reference": "4411"}).status_code == 302
    urls = merchant_urls(samples)
    assert _render_all(staff, urls) >= 5  # the visit's pages: its history holds them

    for member in (owner, with_authenticator(admin)):  # without two factors, and with
        merchant = Client()
        merchant.force_login(member)
        verify_two_factor(merchant, member)
        assert _render_all(merchant, urls) >= 15
    assert not missed, "\n".join(
        f"{name} in {where}: {n}" for (name, where), n in sorted(missed.items())
    )
