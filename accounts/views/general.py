from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ..authorization import describe_action, no_account, requires
from ..forms import AccountSettingsForm
from ..http import posted, say_in_panel
from ..middleware import SESSION_ACCOUNT_KEY
from ..roles import Capability
from ..selectors import user_memberships
from ..services import account_update_settings

SETTINGS_SAVED = gettext_lazy("Settings saved.")


@requires(Capability.VIEW_ACCOUNT)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html")


# Switching only chooses among the user's own memberships; it needs no capability of the
# account being left.
@no_account
@require_POST
def account_switch(request: HttpRequest, account_id: int) -> HttpResponse:
    if request.latchkey.actor is not None and request.latchkey.actor.is_representative:
        raise Http404
    if not user_memberships(user=request.user).filter(account_id=account_id).exists():
        raise Http404
    request.session[SESSION_ACCOUNT_KEY] = account_id
    return redirect("accounts:home")


@requires(Capability.VIEW_ACCOUNT, unsafe=Capability.EDIT_SETTINGS)
def settings_general(request: HttpRequest) -> HttpResponse:
    account = request.latchkey.account
    form = AccountSettingsForm.for_account(posted(request), account)
    if request.method == "POST" and form.is_valid():
        account = account_update_settings(
            account=account, actor=request.latchkey.actor, **form.cleaned_data
        )
        describe_action(request, _("changed the account settings (name, time zone)"))
        say_in_panel(
            request,
            "general",
            _("%(saved)s The account is called “%(name)s” and shows times in %(zone)s.")
            % {"saved": SETTINGS_SAVED, "name": account.name, "zone": account.timezone},
        )
        return redirect(reverse("accounts:settings_general") + "#general")
    can_edit = request.latchkey.actor.can(Capability.EDIT_SETTINGS)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "accounts/settings_general.html",
        {"form": form, "can_edit": can_edit, "active_tab": "general"},
        status=400 if form.errors else 200,
    )
