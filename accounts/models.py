import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from .roles import Role
from .validators import multi_line_text, single_line_text


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address: a merchant's member or vendor staff."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, validators=[single_line_text])
    is_staff = models.BooleanField(
        _("staff status"), default=False, help_text=_("Vendor staff who may use the admin.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=now)
    # Raised by "Sign out of all other sessions": it is part of the session auth hash, so
    # every session signed in before the change stops matching (see _get_session_auth_hash).
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django signs every session with an HMAC of the password hash and drops sessions
        whose HMAC no longer matches (that is how a password change signs everyone out).
        Mixing in `session_generation` gives "sign out everywhere else" the same mechanism,
        for any session backend, without reading a single session row. Generation 0 keeps
        Django's own hash, so sessions made before this field existed stay valid."""
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)
        key_salt = "accounts.User.session_auth_hash"
        value = f"{self.password}:{self.session_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return short_name(self.full_name, self.email)


def short_name(full_name: str, email: str) -> str:
    """ "Sam" for Sam Support: the first word of the name, else the email (for the places
    that have the two values without the user, such as the access-history export)."""
    return full_name.split(" ")[0] if full_name else email


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a time zone name such as Europe/Paris or America/New_York."),
            params={"value": value},
            code="invalid_timezone",
        )


class Plan(models.TextChoices):
    FREE = "free", _("Free")
    GROWTH = "growth", _("Growth")
    PRO = "pro", _("Pro")


class Currency(models.TextChoices):
    """The currency of the store's amounts (a profile's total spent); shown, never converted."""

    USD = "USD", _("US dollar (USD)")
    EUR = "EUR", _("Euro (EUR)")
    GBP = "GBP", _("Pound sterling (GBP)")
    CAD = "CAD", _("Canadian dollar (CAD)")
    AUD = "AUD", _("Australian dollar (AUD)")
    JPY = "JPY", _("Japanese yen (JPY)")
    CHF = "CHF", _("Swiss franc (CHF)")
    SEK = "SEK", _("Swedish krona (SEK)")
    BRL = "BRL", _("Brazilian real (BRL)")
    INR = "INR", _("Indian rupee (INR)")


class Account(models.Model):
    """A merchant's account: the tenant every member, grant and profile belongs to."""

    name = models.CharField(_("account name"), max_length=100, validators=[single_line_text])
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.USD
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )
    plan = models.CharField(_("plan"), max_length=16, choices=Plan.choices, default=Plan.FREE)
    created_at = models.DateTimeField(default=now)

    require_mfa = models.BooleanField(
        _("require two-factor sign-in"),
        default=False,
        help_text=_("Every member must sign in with a code from an authenticator app."),
    )

    remote_access_disabled = models.BooleanField(_("remote access turned off"), default=False)
    remote_access_disabled_at = models.DateTimeField(null=True, blank=True)
    remote_access_disabled_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    remote_access_disabled_reason = models.TextField(blank=True, validators=[multi_line_text])

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="account_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=now)
    # Whether this member is mailed when support staff enter the account. Each member turns
    # it off for themselves; mails about access being granted or removed always go.
    visit_mails = models.BooleanField(_("mail me when support enters"), default=True)

    class Meta:
        ordering = ["account__name", "user__full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account"], name="one_membership_per_user_account"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.account}"


INVITATION_LIFETIME_DAYS = 7


class Invitation(models.Model):
    """A single-use, expiring link that adds someone to an account with a role.

    Only a hash of the token is stored: the link itself lives in the invitee's mailbox.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_pending_invitation_per_email",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="invitation_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.account} ({self.get_role_display()})"

    def is_pending(self, at=None) -> bool:
        at = at or now()
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > at


class TeamEvent(models.Model):
    """Who changed the team, and how: shown to Owners and Admins on the Team tab."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="team_events")
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_description = models.CharField(max_length=300, blank=True)
    summary = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="team_event_recent_idx")]

    def __str__(self) -> str:
        return self.summary


class PlanChange(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="plan_changes")
    from_plan = models.CharField(max_length=16, choices=Plan.choices)
    to_plan = models.CharField(max_length=16, choices=Plan.choices)
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account}: {self.from_plan} → {self.to_plan}"


class Integration(models.Model):
    """A connected store platform. Its secrets must be shown again, so they are encrypted."""

    class Kind(models.TextChoices):
        STORE = "store", _("Store platform")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="integrations")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STORE)
    name = models.CharField(_("name"), max_length=100, validators=[single_line_text])
    store_url = models.URLField(_("store URL"))
    api_key_encrypted = models.TextField()
    webhook_secret_encrypted = models.TextField()
    created_at = models.DateTimeField(default=now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ApiScope(models.TextChoices):
    """What a private API key may read. A key has none unless given (no default that grants)."""

    ACCESS_EVENTS_READ = "access_events:read", _("Read the access history")


class ApiKey(models.Model):
    """A private API key. It only needs checking, so only a hash is kept; the key itself is
    shown once, when created."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    label = models.CharField(_("label"), max_length=100, validators=[single_line_text])
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # ApiScope values this key may use.
    scopes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.prefix}…)"

    def allows(self, scope: str) -> bool:
        return scope in self.scopes
