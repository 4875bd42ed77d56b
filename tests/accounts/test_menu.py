"""The main menu is rendered once per section, capability and language and kept per process
(templates/base.html): each page still marks its own entry, and nobody sees an entry their
role lacks because someone else's menu was kept."""

import re

import pytest
from django.urls import reverse

from accounts.context_processors import nav_section

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/", "home"),
        ("/audience/", "profiles"),
        ("/audience/segments/", "segments"),
        ("/audience/segments/4/edit/", "segments"),
        ("/audience/import/", "import"),
        ("/audience/import/7/", "import"),
        ("/settings/", "settings"),
        ("/settings/security/", "settings"),
        ("/help/contact/", "help"),
        ("/audience/42/", ""),
        ("/nowhere/", ""),
    ],
)
def test_nav_section(path, section):
    assert nav_section(path) == section


def current_entry(html: str) -> list[str]:
    menu = html[html.index('class="nav-list"') : html.index("</nav>")]
    return re.findall(r'href="([^"]+)" aria-current="page"', menu)


def test_each_page_marks_its_own_entry(owner_client):
    for name in ("accounts:home", "audience:segments", "remote_access:security"):
        html = owner_client.get(reverse(name)).content.decode()
        expected = "/settings/" if name == "remote_access:security" else reverse(name)
        assert current_entry(html) == [expected], name


def test_an_analyst_never_gets_an_owners_kept_menu(owner, analyst, client_for):
    importing = reverse("audience:import_upload")
    assert importing in client_for(owner).get(reverse("accounts:home")).content.decode()
    html = client_for(analyst).get(reverse("accounts:home")).content.decode()
    assert importing not in html
    assert current_entry(html) == ["/"]


def test_the_settings_tabs_show_integrations_only_to_those_who_manage_them(
    owner, analyst, client_for
):
    integrations = reverse("accounts:settings_integrations")
    security = reverse("remote_access:security")
    assert integrations in client_for(owner).get(security).content.decode()
    html = client_for(analyst).get(security).content.decode()
    assert integrations not in html
    tabs = html[html.index('class="tabs"') :]
    assert re.search(rf'href="{security}" aria-current="page"', tabs)
