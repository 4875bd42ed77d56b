"""/healthz and /readyz answer probes as load balancers and monitors send them."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

PROJECT_APPS = {"accounts", "remote_access", "audience", "config"}


def test_healthz__ok_touching_nothing(client):
    """No database here at all: any query would raise."""
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")
    assert not response.cookies


def test_healthz__with_a_session_cookie_still_touches_nothing(
    owner_client, django_assert_num_queries
):
    """A probe that carries a cookie is not made to load the session."""
    with django_assert_num_queries(0):
        response = owner_client.get("/healthz")
    assert response.status_code == 200
    assert not response.cookies


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes__answer_plain_http_by_ip_address_without_redirect(settings, client, path):
    """Load balancers probe the backend over http, by IP: no https redirect, no host refusal."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/accounts/login/").status_code == 301  # the redirect is on
    response = client.get(path, HTTP_HOST="10.1.2.3:8000")
    assert response.status_code in (200, 503)
    assert not response.cookies


@pytest.mark.django_db
def test_probes__other_methods_go_through_the_site(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def test_heartbeat__scheduled_by_beat_every_minute():
    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "health.tasks.beat_heartbeat"
    )
    assert entry["schedule"] == 60.0
    assert entry["schedule"] * 2 < settings.READYZ_BEAT_MAX_AGE_SECONDS


def test_health__imports_no_other_app_of_the_project():
    folder = Path(__file__).resolve().parents[2] / "health"
    for source in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in PROJECT_APPS, f"{source.name} imports {name}"
