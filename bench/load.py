"""Load test on loopback: the Security tab against fair baselines, same server (DESIGN §8).

    python bench/load.py [--slice 1] [--rounds 30] [--connections 50]

Starts gunicorn with the production settings (plus the benchmark's URL conf, bench/urls.py)
on the benchmark's PostgreSQL database, then runs Debian's `wrk` (apt-get install wrk)
against three pages, interleaved in short slices A/B/C/A/B/C… so that the machine's noise
falls on all of them alike:

- the **fair baseline**: /bench/empty/, a signed-in page extending base.html with an empty
  body, same middleware, same Owner (the session and CSRF cookies a browser would send are
  carried by a Lua script);
- the **Security tab** (/settings/security/) as that Owner, with 1,000 history events;
- the **framework's floor**: /bench/floor/ without a cookie, a view that answers "ok"
  through the same middleware (what /healthz was when the issue was filed);
- /healthz without a cookie, which now answers before any middleware (the WSGI server's
  floor), reported alongside.

Prints the median requests per second of each over the rounds and the spread, and the
ratios with their targets: Security tab / baseline >= 0.8, baseline / framework floor
>= 0.3 (and baseline / /healthz, for the record). Errors must be 0. Traffic goes to
127.0.0.1 only, bounded in time.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import (
    ROOT,
    SHOP_TABLES,
    empty_tables,
    process_stat,
    report_row,
    setup_django,
    shop_with_live_grant,
)

PORT = 8765
# As the Procfile runs the site (its defaults, unless the environment sets them).
WORKERS = os.environ.get("WEB_CONCURRENCY", "3")
THREADS = os.environ.get("WEB_THREADS", "4")


def signed_in_owner_cookie() -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils.crypto import get_random_string

    from accounts.middleware import SESSION_ACCOUNT_KEY
    from remote_access.models import AccessEvent

    account, owner = shop_with_live_grant()
    AccessEvent.objects.bulk_create(
        AccessEvent(account=account, kind="granted", actor=owner, payload={"duration": "7d"})
        for _n in range(1000)
    )
    session = SessionStore()
    session[SESSION_KEY] = str(owner.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
    session[SESSION_ACCOUNT_KEY] = account.pk  # as the first page after signing in keeps it
    session.create()
    # A browser that has seen a page with a form sends its CSRF cookie back: without it,
    # every request would make and set a new one, which no signed-in person's page does.
    csrf_secret = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    return (
        f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
        f"{settings.CSRF_COOKIE_NAME}={csrf_secret}"
    )


def start_gunicorn(port: int = PORT) -> subprocess.Popen:
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"),
        "EMAIL_URL": "dummymail://",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; TLS is the proxy's job
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            WORKERS,
            "--threads",
            THREADS,
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310
        except OSError:
            time.sleep(0.1)
            continue
        if server.poll() is None:  # else another benchmark's server answered on that port
            return server
        break
    server.terminate()
    raise SystemExit("gunicorn did not start")


LUA = """
wrk.headers["Cookie"] = "%s"
wrk.headers["Host"] = "127.0.0.1"
"""


def run_wrk(path: str, cookie: str, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % cookie)
    output = subprocess.run(  # noqa: S603 - fixed arguments, loopback only
        [
            shutil.which("wrk"),
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            script.name,
            f"http://127.0.0.1:{PORT}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    os.unlink(script.name)

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in match.groups())
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": errors,
    }


PAGES = {
    "baseline": ("/bench/empty/", True),
    "security": ("/settings/security/", True),
    "floor": ("/bench/floor/", False),
    "healthz": ("/healthz", False),
}


def cpu_seconds(server_pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds used so far by each of the web server's processes and PostgreSQL's, by
    pid (Linux's /proc; {} elsewhere). Throughput on two cores is CPU shared by both, so
    where the CPU of a request goes says more than its time does."""
    used = {}
    if not os.path.isdir("/proc"):
        return used
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        stat = process_stat(pid)
        if stat is None:  # ended meanwhile
            continue
        if server_pid in (pid, stat.parent):
            used[pid] = ("gunicorn", stat.cpu_seconds)
        elif stat.name.startswith("postgres"):
            used[pid] = ("postgres", stat.cpu_seconds)
    return used


def cpu_used_between(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds each kind of process used between two `cpu_seconds`: a process that
    started meanwhile counts whole, one that ended meanwhile is not counted."""
    used = {"gunicorn": 0.0, "postgres": 0.0}
    for pid, (kind, seconds) in after.items():
        used[kind] += seconds - before.get(pid, (kind, 0.0))[1]
    return used


def interleaved(
    cookie: str, *, rounds: int, seconds: int, connections: int, server_pid: int
) -> dict:
    """wrk on each page in turn, `rounds` times; per page the list of results, each with
    the CPU seconds the server and PostgreSQL used during it."""
    results: dict[str, list[dict]] = {name: [] for name in PAGES}
    for _round in range(rounds):
        for name, (path, signed_in) in PAGES.items():
            before = cpu_seconds(server_pid)
            result = run_wrk(path, cookie if signed_in else "", seconds, connections)
            after = cpu_seconds(server_pid)
            result["cpu"] = cpu_used_between(before, after) if after else {}
            results[name].append(result)
    return results


def summary(results: dict) -> dict:
    medians = {name: statistics.median(r["rps"] for r in runs) for name, runs in results.items()}
    spread = {
        name: (min(r["rps"] for r in runs), max(r["rps"] for r in runs))
        for name, runs in results.items()
    }
    errors = sum(r["errors"] for runs in results.values() for r in runs)
    # Milliseconds of CPU per request, over all of a page's slices.
    cpu = {
        name: {
            key: 1000 * sum(r["cpu"].get(key, 0) for r in runs) / sum(r["requests"] for r in runs)
            for key in runs[0]["cpu"]
        }
        for name, runs in results.items()
    }
    return {"median": medians, "spread": spread, "errors": errors, "cpu": cpu}


def check_signed_in(cookie: str) -> None:
    floor = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/bench/floor/", timeout=10)  # noqa: S310
    assert floor.read() == b"ok", "the floor answers ok"
    for path in ("/settings/security/", "/bench/empty/"):
        probe = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", headers={"Cookie": cookie})
        with urllib.request.urlopen(probe, timeout=10) as response:  # noqa: S310 - loopback
            assert response.status == 200, path
            assert "Acme" in response.read().decode(), "the load test must see the signed-in page"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slice", type=int, default=1, help="seconds per wrk slice")
    parser.add_argument("--rounds", type=int, default=30, help="slices per page and run (samples)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("load: needs wrk (apt-get install wrk); skipped")
    # One key for this process (which signs the session in) and the server (which checks it).
    os.environ["SECRET_KEY"] = "load-test-" + os.urandom(16).hex()
    setup_django()
    cookie = signed_in_owner_cookie()
    server = start_gunicorn()
    runs = []
    try:
        check_signed_in(cookie)
        for _run in range(args.runs):
            results = interleaved(
                cookie,
                rounds=args.rounds,
                seconds=args.slice,
                connections=args.connections,
                server_pid=server.pid,
            )
            runs.append(summary(results))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    for number, run in enumerate(runs, 1):
        for name in PAGES:
            low, high = run["spread"][name]
            cpu = ", ".join(f"{key} {ms:.2f}" for key, ms in run["cpu"][name].items())
            print(
                f"load: run {number}: {name} {PAGES[name][0]}: median {run['median'][name]:.0f} "
                f"req/s (slices {low:.0f}-{high:.0f}), errors so far {run['errors']}; "
                f"CPU ms a request: {cpu or 'not measured here'}"
            )

    def ratios(page: str, baseline: str) -> list[float]:
        return [run["median"][page] / run["median"][baseline] for run in runs]

    def req_s(page: str) -> str:
        return "/".join(f"{run['median'][page]:.0f}" for run in runs)

    errors = sum(run["errors"] for run in runs)
    ratio_row(
        "Security tab ÷ signed-in empty page, req/s",
        ratios("security", "baseline"),
        0.8,
        f"{req_s('security')} vs {req_s('baseline')} req/s; {errors} wrk errors",
    )
    ratio_row(
        "signed-in empty page ÷ framework floor (no cookie, same middleware), req/s",
        ratios("baseline", "floor"),
        0.3,
        f"{req_s('baseline')} vs {req_s('floor')} req/s",
    )
    ratio_row(
        "signed-in empty page ÷ /healthz (answers before any middleware), req/s",
        ratios("baseline", "healthz"),
        None,
        f"{req_s('baseline')} vs {req_s('healthz')} req/s",
    )
    print(
        f"load: {args.connections} connections, {args.rounds} x {args.slice}s slices per page "
        f"and run, interleaved; {WORKERS} gunicorn workers x {THREADS} threads (as the Procfile)"
    )
    empty_tables(*SHOP_TABLES)


def ratio_row(name: str, ratios: list[float], target: float | None, detail: str) -> None:
    values = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    if target is None:
        report_row(name, f"{values} ({detail})", "for the record", held=None)
    else:
        held = min(ratios) >= target
        report_row(name, f"{values} ({detail})", f"≥ {target}", held=held)


if __name__ == "__main__":
    main()
