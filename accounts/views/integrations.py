"""The Integrations tab: connected platforms and private API keys, for Owners and Admins only.
Pages that show a secret in full are never cached."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ..authorization import requires
from ..forms import ApiKeyForm
from ..http import say_in_panel
from ..models import ApiKey, Integration
from ..roles import Capability
from ..services.integrations import (
    api_key_create,
    api_key_revoke,
    integration_rotate_webhook_secret,
    integration_secrets,
    mask,
)
from ..sudo import sudo_required

CREATE_API_KEY_ACTION = gettext_lazy("create an API key")


def _page(request, *, revealed: dict | None = None, new_key: str = "", form=None, status=200):
    account = request.latchkey.account
    integrations = []
    for integration in Integration.objects.filter(account=account):
        secrets = integration_secrets(integration=integration)
        shown = (revealed or {}).get(integration.pk)
        integrations.append(
            {
                "integration": integration,
                "api_key": shown["api_key"] if shown else mask(secrets["api_key"]),
                "webhook_secret": shown["webhook_secret"]
                if shown
                else mask(secrets["webhook_secret"]),
                "revealed": bool(shown),
            }
        )
    return render(
        request,
        "accounts/settings_integrations.html",
        {
            "active_tab": "integrations",
            "integrations": integrations,
            "api_keys": ApiKey.objects.filter(account=account).select_related("created_by"),
            "new_key": new_key,
            "form": form or ApiKeyForm(),
        },
        status=status,
    )


@requires(Capability.MANAGE_INTEGRATIONS)
@require_http_methods(["GET"])
@never_cache
def settings_integrations(request: HttpRequest) -> HttpResponse:
    return _page(request)


@requires(Capability.MANAGE_INTEGRATIONS)
@require_http_methods(["POST"])
@never_cache
def integration_reveal(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = get_object_or_404(
        Integration, account=request.latchkey.account, pk=integration_id
    )
    return _page(request, revealed={integration.pk: integration_secrets(integration=integration)})


@requires(Capability.MANAGE_INTEGRATIONS)
@require_http_methods(["POST"])
@never_cache
def integration_rotate(request: HttpRequest, integration_id: int) -> HttpResponse:
    integration = get_object_or_404(
        Integration, account=request.latchkey.account, pk=integration_id
    )
    integration_rotate_webhook_secret(
        account=request.latchkey.account,
        actor=request.latchkey.actor,
        integration_id=integration.pk,
    )
    integration.refresh_from_db()
    say_in_panel(
        request, "integrations", _("New webhook secret made; update it in your store's settings.")
    )
    return _page(request, revealed={integration.pk: integration_secrets(integration=integration)})


@requires(Capability.MANAGE_INTEGRATIONS)
@require_http_methods(["POST"])
@never_cache
@sudo_required(CREATE_API_KEY_ACTION)
def api_key_new(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    _api_key, key = api_key_create(
        account=request.latchkey.account,
        actor=request.latchkey.actor,
        label=form.cleaned_data["label"],
        scopes=form.cleaned_data["scopes"],
    )
    return _page(request, new_key=key)


@requires(Capability.MANAGE_INTEGRATIONS)
@require_http_methods(["POST"])
def api_key_revoke_view(request: HttpRequest, api_key_id: int) -> HttpResponse:
    api_key = get_object_or_404(ApiKey, account=request.latchkey.account, pk=api_key_id)
    api_key_revoke(
        account=request.latchkey.account, actor=request.latchkey.actor, api_key_id=api_key.pk
    )
    say_in_panel(request, "api-keys", _("Key “%(label)s” revoked.") % {"label": api_key.label})
    return redirect(reverse("accounts:settings_integrations") + "#api-keys")
