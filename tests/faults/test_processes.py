"""Every process in the Procfile runs the production settings, and refuses without them."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION = "config.settings.production"
# What production needs; each process must refuse to start without any one of them.
PRODUCTION_ENV = {
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "latchkey.example.com",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgres://latchkey@127.0.0.1:5432/latchkey",
    "REDIS_URL": "redis://127.0.0.1:6379/3",
    "EMAIL_URL": "smtp://127.0.0.1:25",
}
# What the module the process names must load, checked in a fresh interpreter.
LOADS = {
    "gunicorn": "import config.wsgi",
    "celery": "from config.celery_app import app; app.loader.import_default_modules()",
}
REPORT = (
    "from django.conf import settings; from config.celery_app import app;"
    " print(settings.SETTINGS_MODULE, settings.DEBUG, app.conf.broker_url)"
)


def procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = shlex.split(command)
    return processes


def split_assignments(words: list[str]) -> tuple[dict[str, str], list[str]]:
    """`A=1 B=2 cmd args` → ({A: 1, B: 2}, [cmd, args]), as the shell reads it."""
    env = {}
    while words and "=" in words[0] and not words[0].startswith("-"):
        key, value = words[0].split("=", 1)
        env[key] = value
        words = words[1:]
    return env, words


def clean_env(**extra: str) -> dict[str, str]:
    keep = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION_ENV and key != "DJANGO_SETTINGS_MODULE"
    }
    return {**keep, **extra}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and commands
        args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_procfile__web_worker_and_beat_name_the_production_settings():
    processes = procfile()
    assert set(processes) >= {"web", "worker", "beat"}
    for name in ("web", "worker", "beat"):
        env, command = split_assignments(processes[name])
        assert env.get("DJANGO_SETTINGS_MODULE") == PRODUCTION, name
    assert split_assignments(processes["worker"])[1][:4] == ["celery", "-A", "config", "worker"]
    assert split_assignments(processes["beat"])[1][:4] == ["celery", "-A", "config", "beat"]


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_procfile__each_process_loads_its_module_with_debug_off(name):
    env, command = split_assignments(procfile()[name])
    program = Path(command[0]).name
    result = run(
        [sys.executable, "-c", f"{LOADS[program]}; {REPORT}"],
        clean_env(**env, **PRODUCTION_ENV),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [PRODUCTION, "False", PRODUCTION_ENV["REDIS_URL"]]


@pytest.mark.parametrize("command", ["worker", "beat"])
@pytest.mark.parametrize("missing", ["SECRET_KEY", "REDIS_URL", "DATABASE_URL", "EMAIL_URL"])
def test_celery__refuses_to_start_under_production_without_its_environment(
    tmp_path, command, missing
):
    """No development fallback: a worker with no REDIS_URL would otherwise queue into a folder."""
    present = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}
    celery = str(Path(sys.executable).with_name("celery"))
    args = [celery, "-A", "config", command, "--loglevel", "INFO"]
    args += ["--pool", "solo"] if command == "worker" else ["-s", str(tmp_path / "schedule")]
    result = run(args, clean_env(DJANGO_SETTINGS_MODULE=PRODUCTION, **present))
    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_celery__without_a_settings_module_runs_production_not_development():
    result = run([sys.executable, "-c", REPORT], clean_env())
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr
