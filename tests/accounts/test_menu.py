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


def account_menu(html: str) -> str:
    return html[html.index('class="account-menu"') : html.index("</header>")]


def test_the_kept_account_menu_names_what_it_shows(owner, account, other_account, client_for):
    """The account menu is kept under the account, the person and the accounts it lists:
    a renamed account or person, or a new membership, shows at the next page."""
    from tests.accounts.factories import AccountFactory, MembershipFactory

    MembershipFactory(user=owner, account=other_account)
    client = client_for(owner)
    home = reverse("accounts:home")
    menu = account_menu(client.get(home).content.decode())
    assert "Acme Store" in menu
    assert "Globex" in menu
    assert reverse("accounts:switch", args=[other_account.pk]) in menu

    other_account.name = "Globex Europe"
    other_account.save()
    account.name = "Acme Shop"
    account.save()
    owner.full_name = "Olivia Owens"
    owner.save()
    third = AccountFactory(name="Initech")
    MembershipFactory(user=owner, account=third)
    menu = account_menu(client.get(home).content.decode())
    assert "Globex Europe" in menu
    assert "Acme Shop" in menu
    assert "Olivia Owens" in menu
    assert reverse("accounts:switch", args=[third.pk]) in menu


def test_a_representative_never_gets_a_members_kept_account_menu(
    owner, account, support_staff, client_for
):
    """Members see Log out and Your profile; a representative inside the same account, with
    the menu kept for the member, does not."""
    from django.test import Client

    from tests.conftest import verify_two_factor
    from tests.remote_access.factories import GrantFactory

    profile = reverse("accounts:profile")
    assert profile in account_menu(client_for(owner).get(reverse("accounts:home")).content.decode())
    GrantFactory(account=account, granted_by=owner)
    rep = Client()
    rep.force_login(support_staff)
    verify_two_factor(rep, support_staff)
    enter = reverse("admin:accounts_account_enter", args=[account.pk])
    assert rep.post(enter, {"ticket_reference": "4411"}).status_code == 302
    menu = account_menu(rep.get(reverse("accounts:home")).content.decode())
    assert "Acme Store" in menu
    assert profile not in menu
    assert reverse("accounts:logout") not in menu
