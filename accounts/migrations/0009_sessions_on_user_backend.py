"""Sessions signed in through Django's ModelBackend now name accounts.backends.UserBackend,
which took its place in AUTHENTICATION_BACKENDS: without this, every session would end at
deploy (Django signs out a session whose backend is no longer listed). A sign-in waiting for
its two-factor code names its backend too."""

from django.db import migrations

OLD = "django.contrib.auth.backends.ModelBackend"
NEW = "accounts.backends.UserBackend"
BACKEND_KEY = "_auth_user_backend"
MFA_PENDING = "mfa_pending"


def point_sessions_at(old: str, new: str):
    def rewrite(apps, schema_editor):
        from django.contrib.sessions.backends.db import SessionStore

        Session = apps.get_model("sessions", "Session")
        store = SessionStore()
        for session in Session.objects.iterator(chunk_size=1000):
            data = store.decode(session.session_data)
            changed = False
            if data.get(BACKEND_KEY) == old:
                data[BACKEND_KEY] = new
                changed = True
            pending = data.get(MFA_PENDING)
            if isinstance(pending, dict) and pending.get("backend") == old:
                pending["backend"] = new
                changed = True
            if changed:
                session.session_data = store.encode(data)
                session.save(update_fields=["session_data"])

    return rewrite


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_account_currency"),
        ("sessions", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(point_sessions_at(OLD, NEW), point_sessions_at(NEW, OLD)),
    ]
