#!/usr/bin/env python3
"""entraide's two commands, bootstrapping what they need (idempotent, safe to re-run).

    python3 run.py demo    the complete demo: SQLite, demo fund, web server and task worker
    python3 run.py test    lint, types, migrations and catalogs checks, then the whole test suite
                           on SQLite and on PostgreSQL

Only the standard library is used here: this file runs before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import ctypes.util
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
UV_VERSION = "0.13.8"
STAMP = VENV / ".entraide-sync-stamp"
CHROMIUM = Path("/usr/bin/chromium")
POSTGRES_URL = os.environ.get(
    "ENTRAIDE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/entraide_ci"
)


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def run(*command: str | Path, env: dict[str, str] | None = None, check: bool = True) -> int:
    completed = subprocess.run([str(part) for part in command], cwd=ROOT, env=env, check=False)
    if check and completed.returncode != 0:
        sys.exit(f"command failed ({completed.returncode}): {' '.join(map(str, command))}")
    return completed.returncode


def manage(*args: str, env: dict[str, str] | None = None, check: bool = True) -> int:
    return run(PYTHON, "manage.py", *args, env=env, check=check)


def bootstrap() -> None:
    """The virtual environment with exactly the locked dependencies, and compiled catalogs."""
    if not PYTHON.exists():
        say("creating the virtual environment in .venv")
        run(sys.executable, "-m", "venv", VENV)
    uv = VENV / "bin" / "uv"
    if not uv.exists():
        say(f"installing uv {UV_VERSION}")
        if run(PYTHON, "-m", "pip", "--version", check=False) != 0:
            # An environment made by another tool may come without pip.
            run(PYTHON, "-m", "ensurepip", "--upgrade")
        run(PYTHON, "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}")
    digest = hashlib.sha256(
        (ROOT / "uv.lock").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != digest:
        say("installing the locked dependencies")
        env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV)}
        run(uv, "sync", "--locked", "--python", PYTHON, env=env)
        STAMP.write_text(digest)
    manage("catalogs", "compile")


def free_port(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def demo(args: argparse.Namespace) -> None:
    bootstrap()
    ensure_system_packages(for_tests=False)
    say("migrating the database")
    manage("migrate", "--no-input", "-v0")
    say("seeding the demo fund")
    manage("demo", "seed")
    if not free_port(args.port):
        sys.exit(f"port {args.port} is in use: stop what runs there, or pass --port")
    say(
        "starting the task worker, the scheduler of periodic tasks and the web server on "
        f"http://127.0.0.1:{args.port}"
    )
    worker = subprocess.Popen([str(PYTHON), "manage.py", "db_worker"], cwd=ROOT)
    scheduler = subprocess.Popen([str(PYTHON), "manage.py", "scheduler"], cwd=ROOT)
    server = subprocess.Popen(
        [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{args.port}", "--noreload"], cwd=ROOT
    )
    try:
        while all(process.poll() is None for process in (worker, scheduler, server)):
            try:
                server.wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        pass
    finally:
        for process in (server, scheduler, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in (server, scheduler, worker):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def ensure_system_packages(*, for_tests: bool) -> None:
    """Debian's pango and HarfBuzz's subsetter for the PDFs (WeasyPrint), and for the tests
    Debian's chromium for the browser tests (never a browser downloaded by Playwright) and GNU
    gettext for checking that the catalogs cover every string."""
    needed = [
        ("libpango-1.0-0", ctypes.util.find_library("pango-1.0")),
        ("libpangoft2-1.0-0", ctypes.util.find_library("pangoft2-1.0")),
        # WeasyPrint subsets the PDFs' fonts with it (fontTools, much slower, otherwise).
        ("libharfbuzz-subset0", ctypes.util.find_library("harfbuzz-subset")),
    ]
    if for_tests:
        needed += [("chromium", CHROMIUM.exists()), ("gettext", shutil.which("xgettext"))]
        # pg_dump / pg_restore for the restore drill's test on PostgreSQL.
        needed += [("postgresql-client", shutil.which("pg_restore"))]
    missing = [package for package, present in needed if not present]
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"installing Debian packages: {' '.join(missing)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", env=env)
        run("apt-get", "install", "-y", "-qq", *missing, env=env)
    else:
        say(f"missing {' '.join(missing)} and not root to install: install them with apt-get")


def postgres_reachable() -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", 5432)) == 0


def suite_env(database: str) -> dict[str, str]:
    """The environment of the test suite on ``database`` (sqlite or postgres)."""
    env = dict(os.environ)
    if database == "postgres":
        env["DATABASE_URL"] = POSTGRES_URL
    else:
        env.pop("DATABASE_URL", None)
    return env


def test(args: argparse.Namespace) -> None:
    bootstrap()
    ensure_system_packages(for_tests=True)
    checks = [
        ("ruff check", [VENV / "bin" / "ruff", "check", "."]),
        ("ruff format --check", [VENV / "bin" / "ruff", "format", "--check", "."]),
        ("mypy", [VENV / "bin" / "mypy", "entraide"]),
        ("makemigrations --check", [PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"]),
        ("catalogs check", [PYTHON, "manage.py", "catalogs", "check"]),
    ]
    databases = args.databases.split(",") if args.databases else ["sqlite"]
    if not args.databases and postgres_reachable():
        databases.append("postgres")
    pytest = [str(PYTHON), "-m", "pytest", "--create-db", *args.pytest_args]
    # The suites run side by side (a machine has two cores or more): the first one in front
    # after the checks, each other one from the start in its own var folder, its output kept
    # in a log shown when it ends.
    background = []
    # The browser tests drive the pages, whatever the database under them: they run once, in
    # the first suite; the others test the database layer (about a third of their time saved).
    beside = [*pytest, "-m", "not browser"]
    for database in databases[1:]:
        var_dir = ROOT / "var" / f"test-{database}"
        var_dir.mkdir(parents=True, exist_ok=True)
        log_path = var_dir / "pytest.log"
        say(f"pytest on {database}, beside the next (output in {log_path})")
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                beside,
                cwd=ROOT,
                env={**suite_env(database), "ENTRAIDE_VAR_DIR": str(var_dir)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        background.append((database, process, log_path))
    failed = []
    for name, command in checks:
        say(name)
        if run(*command, check=False) != 0:
            failed.append(name)
    say(f"pytest on {databases[0]}")
    # 5 (no test collected) is a failure too
    if run(*pytest, env=suite_env(databases[0]), check=False) != 0:
        failed.append(f"pytest on {databases[0]}")
    for database, process, log_path in background:
        code = process.wait()
        say(f"pytest on {database}")
        sys.stdout.write(log_path.read_text(encoding="utf-8", errors="replace"))
        sys.stdout.flush()
        if code != 0:
            failed.append(f"pytest on {database}")
    if failed:
        sys.exit(f"FAILED: {', '.join(failed)}")
    say("all checks and tests passed on " + ", ".join(databases))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo_parser = sub.add_parser("demo", help="run the complete demo")
    demo_parser.add_argument("--port", type=int, default=8000)
    demo_parser.set_defaults(handler=demo)
    test_parser = sub.add_parser("test", help="run every check and the whole test suite")
    test_parser.add_argument(
        "--databases",
        help="comma-separated: sqlite,postgres (default: sqlite, plus postgres when reachable)",
    )
    test_parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    test_parser.set_defaults(handler=test)
    args = parser.parse_args()
    args.handler(args)


if __name__ == "__main__":
    main()
