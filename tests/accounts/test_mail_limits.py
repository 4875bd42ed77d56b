"""Mail a stranger can make the site send is limited (issue 15, finding 6, as a class)."""

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.views.password_reset import RESET_MAILS_PER_EMAIL, RESET_REQUESTS_PER_IP
from accounts.views.team import INVITATIONS_PER_HOUR
from outbox.services import outbox_drain


def reset(client: Client, email: str, ip: str = "203.0.113.9"):
    return client.post(reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=ip)


def test_password_reset__mails_one_address_a_few_times_then_stops_silently(owner, analyst):
    client = Client()
    for _ in range(RESET_MAILS_PER_EMAIL + 3):
        response = reset(client, "owner@acme.test")
        assert response.status_code == 302  # the same answer every time: no enumeration
    reset(client, "ANALYST@acme.test ")
    outbox_drain()
    assert sorted(m.to[0] for m in mail.outbox) == ["analyst@acme.test"] + (
        ["owner@acme.test"] * RESET_MAILS_PER_EMAIL
    )


def test_password_reset__one_ip_is_refused_after_many_requests(owner):
    client = Client()
    for n in range(RESET_REQUESTS_PER_IP):
        assert reset(client, f"nobody{n}@example.test").status_code == 302
    assert reset(client, "owner@acme.test").status_code == 429
    outbox_drain()
    assert mail.outbox == []
    assert reset(client, "owner@acme.test", ip="198.51.100.7").status_code == 302
    outbox_drain()
    assert len(mail.outbox) == 1


def test_invitations__limited_per_person(owner_client):
    url = reverse("accounts:member_invite")
    for n in range(INVITATIONS_PER_HOUR):
        response = owner_client.post(url, {"email": f"new{n}@acme.test", "role": "analyst"})
        assert response.status_code == 302
    response = owner_client.post(url, {"email": "one-more@acme.test", "role": "analyst"})
    assert response.status_code == 429
    outbox_drain()
    assert len(mail.outbox) == INVITATIONS_PER_HOUR
