from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.errors import ApplicationError

from ..authorization import describe_action, render_refusal, requires
from ..forms import InviteForm, MFAPolicyForm, RoleForm
from ..http import say_in_panel, show_error
from ..models import Invitation, Membership
from ..ratelimit import limit_posts
from ..roles import Capability
from ..selectors import pending_invitations, team_history, team_members
from ..services import (
    account_set_mfa_policy,
    invitation_create,
    invitation_revoke,
    member_change_role,
    member_remove,
    mfa_reset_allowed,
    mfa_reset_member,
)
from ..services.mfa import ONLY_OWNERS_RESET_OWNERS

# Each invitation sends a mail: a burst of them is a script, or someone using us to spam.
INVITATIONS_PER_HOUR = 30


def _team_page(request: HttpRequest, *, invite_form: InviteForm | None = None, status: int = 200):
    actor, account = request.latchkey.actor, request.latchkey.account
    can_manage = actor.can(Capability.MANAGE_USERS)
    return render(
        request,
        "accounts/settings_team.html",
        {
            "active_tab": "team",
            "members": team_members(account=account),
            "can_manage": can_manage,
            "can_reset_mfa": actor.can(Capability.RESET_MFA),
            "can_set_policy": actor.can(Capability.SET_MFA_POLICY),
            "may_touch_owners": actor.can(Capability.TRANSFER_OWNERSHIP),
            "invitations": pending_invitations(account=account) if can_manage else [],
            "history": team_history(account=account) if can_manage else [],
            "invite_form": invite_form
            or InviteForm(may_make_owner=actor.can(Capability.TRANSFER_OWNERSHIP)),
            "role_choices": RoleForm.base_fields["role"].choices,
            "policy_form": MFAPolicyForm(initial={"require_mfa": account.require_mfa}),
        },
        status=status,
    )


@requires(Capability.VIEW_ACCOUNT)
@require_http_methods(["GET"])
def settings_team(request: HttpRequest) -> HttpResponse:
    return _team_page(request)


@requires(Capability.MANAGE_USERS)
@require_http_methods(["POST"])
@limit_posts("invite", limit=INVITATIONS_PER_HOUR, window=60 * 60)
def member_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(
        request.POST, may_make_owner=request.latchkey.actor.can(Capability.TRANSFER_OWNERSHIP)
    )
    if form.is_valid():
        try:
            invitation_create(
                account=request.latchkey.account,
                actor=request.latchkey.actor,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ApplicationError as error:
            show_error(request, error, form=form)
        else:
            say_in_panel(
                request,
                "invite",
                _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]},
            )
            return redirect(_team_url("invite"))
    return _team_page(request, invite_form=form, status=400)


@requires(Capability.MANAGE_USERS)
@require_http_methods(["POST"])
def invitation_cancel(request: HttpRequest, invitation_id: int) -> HttpResponse:
    get_object_or_404(Invitation, account=request.latchkey.account, pk=invitation_id)
    invitation_revoke(
        account=request.latchkey.account, actor=request.latchkey.actor, invitation_id=invitation_id
    )
    say_in_panel(request, "invite", _("Invitation revoked; its link no longer works."))
    return redirect(_team_url("invite"))


@requires(Capability.MANAGE_USERS)
@require_http_methods(["POST"])
def member_role(request: HttpRequest, member_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership, account=request.latchkey.account, pk=member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        say_in_panel(request, "team", " ".join(form.errors["role"]), level=messages.ERROR)
        return redirect(_team_url("team"))
    try:
        member_change_role(
            account=request.latchkey.account,
            actor=request.latchkey.actor,
            member_id=membership.pk,
            role=form.cleaned_data["role"],
        )
    except ApplicationError as error:
        show_error(request, error, panel="team")
    else:
        membership.refresh_from_db(fields=["role"])
        say_in_panel(
            request,
            "team",
            _("%(name)s is now %(role)s.")
            % {"name": membership.user.full_name, "role": membership.get_role_display()},
        )
    return redirect(_team_url("team"))


def _team_url(panel: str) -> str:
    return reverse("accounts:settings_team") + "#" + panel


def _member(request: HttpRequest, member_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"), account=request.latchkey.account, pk=member_id
    )


def _confirm_page(
    request: HttpRequest, membership: Membership, *, title: str, explanation: str, button: str
) -> HttpResponse:
    """The page that asks before a change to a member (and is all there is without JS)."""
    return render(
        request,
        "accounts/member_confirm.html",
        {
            "active_tab": "team",
            "membership": membership,
            "title": title,
            "explanation": explanation,
            "button": button,
        },
    )


@requires(Capability.MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def member_remove_view(request: HttpRequest, member_id: int) -> HttpResponse:
    membership = _member(request, member_id)
    if request.method == "POST":
        try:
            member_remove(
                account=request.latchkey.account,
                actor=request.latchkey.actor,
                member_id=membership.pk,
            )
        except ApplicationError as error:
            show_error(request, error, panel="team")
        else:
            say_in_panel(
                request, "team", _("%(name)s was removed.") % {"name": membership.user.full_name}
            )
        return redirect(_team_url("team"))
    return _confirm_page(
        request,
        membership,
        title=_("Remove %(name)s?") % {"name": membership.user.full_name},
        explanation=_("They lose access to this account at once. Their history stays."),
        button=_("Remove"),
    )


def _reset_mfa(request: HttpRequest, membership: Membership) -> HttpResponse:
    try:
        mfa_reset_member(
            account=request.latchkey.account, actor=request.latchkey.actor, member_id=membership.pk
        )
    except ApplicationError as error:  # they became an Owner meanwhile
        show_error(request, error, panel="team")
    else:
        say_in_panel(
            request,
            "team",
            _("Two-factor sign-in of %(name)s was reset; they have been emailed.")
            % {"name": membership.user.full_name},
        )
    return redirect(_team_url("team"))


@requires(Capability.RESET_MFA)
@require_http_methods(["GET", "POST"])
def member_reset_mfa(request: HttpRequest, member_id: int) -> HttpResponse:
    membership = _member(request, member_id)
    if not mfa_reset_allowed(actor=request.latchkey.actor, membership=membership):
        return render_refusal(request, ONLY_OWNERS_RESET_OWNERS)
    if request.method == "POST":
        return _reset_mfa(request, membership)
    return _confirm_page(
        request,
        membership,
        title=_("Reset two-factor sign-in of %(name)s?") % {"name": membership.user.full_name},
        explanation=_(
            "Their authenticator app and recovery codes stop working now. Use this when "
            "they lost their phone; they set it up again afterwards."
        ),
        button=_("Reset"),
    )


@requires(Capability.SET_MFA_POLICY)
@require_http_methods(["POST"])
def mfa_policy(request: HttpRequest) -> HttpResponse:
    form = MFAPolicyForm(request.POST)
    form.is_valid()
    required = form.cleaned_data.get("require_mfa", False)
    account_set_mfa_policy(
        account=request.latchkey.account, actor=request.latchkey.actor, required=required
    )
    describe_action(request, _("changed the two-factor sign-in policy"))
    say_in_panel(
        request,
        "mfa-policy",
        _("Two-factor sign-in is now required for every member.")
        if required
        else _("Two-factor sign-in is now optional."),
    )
    return redirect(_team_url("mfa-policy"))
