"""The segment editor adds and removes condition rows, without JavaScript."""

from django.urls import reverse

from audience.models import Segment
from tests.audience.test_segments import NEW, form_data, text

VIP = {"field": "total_spent", "operator": "gte", "value": "1000"}
GOLD = {"field": "property", "property_name": "tier", "operator": "equals", "value": "gold"}


def test_new_segment__starts_with_one_empty_row(owner_client):
    response = owner_client.get(NEW)
    assert response.context["conditions"].total_form_count() == 1


def test_add_a_condition__same_form_one_more_row_nothing_saved(owner_client, account):
    """What was typed comes back as typed, with an empty row after it; nothing is checked
    (no "give it a name" error) and nothing is saved."""
    data = {**form_data(name="", rows=[VIP]), "add_condition": "1"}
    response = owner_client.post(NEW, data)
    assert response.status_code == 200
    conditions = response.context["conditions"]
    assert conditions.total_form_count() == 2
    assert conditions.forms[0].initial["value"] == "1000"
    assert "Give" not in text(response)
    assert not Segment.objects.exists()


def test_remove__a_row_marked_remove_is_not_saved(owner_client, account):
    data = form_data(rows=[VIP, {**GOLD, "DELETE": "on"}])
    response = owner_client.post(NEW, data)
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert [(c["field"], c["operator"]) for c in segment.conditions] == [("total_spent", "gte")]


def test_remove__an_invalid_row_marked_remove_does_not_block_saving(owner_client, account):
    broken = {"field": "property", "property_name": "a__gt", "operator": "equals", "value": "x"}
    response = owner_client.post(NEW, form_data(rows=[VIP, {**broken, "DELETE": "on"}]))
    assert response.status_code == 302


def test_add_then_remove__keeps_the_other_rows(owner_client, account):
    data = {**form_data(rows=[VIP, {**GOLD, "DELETE": "on"}]), "add_condition": "1"}
    conditions = owner_client.post(NEW, data).context["conditions"]
    assert [form.initial.get("value") for form in conditions.forms] == ["1000", None]


def test_editing__stored_conditions_and_one_empty_row(owner_client, account):
    segment = Segment.objects.create(
        account=account, name="VIP", match="all", conditions=[VIP, VIP]
    )
    response = owner_client.get(reverse("audience:segment_edit", args=[segment.pk]))
    assert response.context["conditions"].total_form_count() == 3
