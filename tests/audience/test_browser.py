import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from audience.models import Profile
from tests.accounts.factories import PASSWORD, AccountFactory, MembershipFactory
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_import_a_csv_and_watch_it_finish(page, tmp_path):
    account = AccountFactory(name="Acme Store")
    MembershipFactory(account=account, role=Role.ADMIN, user__email="admin@acme.test")
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text(
        "email,first_name,total_spent,tier\n"
        + "".join(f"c{n}@example.com,C{n},{n}.5,gold\n" for n in range(300))
        + "not-an-email,Bad,1,gold\n"
    )
    browser_login(page, "admin@acme.test", PASSWORD)
    page.get_by_role("link", name="Import").click()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Preview: 301 rows")).to_be_visible()
    page.get_by_role("button", name="Import", exact=True).click()

    progress = page.get_by_role("progressbar", name="Import progress")
    expect(progress).to_have_attribute("value", "100")
    expect(page.get_by_text("Done")).to_be_visible()
    result = page.locator("[data-progress-result]")
    expect(result).to_contain_text(re.compile(r"Added\s*300"))
    expect(result).to_contain_text(re.compile(r"Rejected\s*1"))
    expect(page.get_by_role("cell", name="“not-an-email” is not an email address")).to_be_visible()
    assert Profile.objects.filter(account=account).count() == 300
