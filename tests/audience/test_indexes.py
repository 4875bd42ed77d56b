"""The profile list is served by an index, not by a scan of every merchant's profiles."""

import pytest
from django.db import connection

from audience.selectors import profile_search


@pytest.mark.services
def test_profile_list__uses_the_account_email_index(account):
    """The list's query (one account, email order, one page) can be answered in order by the
    unique (account, email) index; the planner is told to avoid a sequential scan and a
    sort, so the answer does not depend on how few rows the test has."""
    query = profile_search(account=account)[:50]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "one_profile_per_email" in plan, plan
    assert "Sort" not in plan, plan
