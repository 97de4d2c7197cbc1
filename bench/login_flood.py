"""Staff writes under a flood of wrong passwords (issue 11, case 1). Prints figures; never fails.

Run: .venv/bin/python -m bench.login_flood [seconds] [--project PATH]. Builds a demo database
(`flask init-db --demo`, so the production hash, scrypt), starts gunicorn with two sync workers,
and for `seconds` (default 20) lets four staff clients, each its own login session of the shared
"housing" account, clear and reopen students' housing steps, once alone and once while eight
clients post wrong passwords from another address. Each staff write is timed. The flood runs twice: with the per-address
limit raised out of reach (what the hash costs the writers, the limit aside) and with the default
limit. `--project` runs the server from another copy of the code (for instance an older commit
unpacked with `git archive`), to compare.
"""

from __future__ import annotations

import functools
import http.client
import http.cookiejar
import itertools
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
STAFF_CLIENTS, FLOOD_CLIENTS = 4, 8
ATTACKER = "127.0.0.66"  # the flood's one address; the staff work from 127.0.0.1
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


class Browser:
    """One client with its own cookies; no redirects followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    class _FromAddress(urllib.request.HTTPHandler):
        """Connect from a chosen loopback address (all of 127/8 is this machine), as another client would."""

        def __init__(self, address: str) -> None:
            super().__init__()
            self.address = address

        def http_open(self, req):
            return self.do_open(functools.partial(http.client.HTTPConnection, source_address=(self.address, 0)), req)

    def __init__(self, base: str, address: str = "127.0.0.1") -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._NoRedirect, self._FromAddress(address)
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def token(self, path: str) -> str:
        _status, page = self.request(path)
        found = TOKEN.search(page)
        return next(group for group in found.groups() if group)

    def log_in(self, username: str, password: str) -> int:
        return self.request("/login", {"csrf_token": self.token("/login"), "username": username, "password": password})[
            0
        ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(project: Path, database: Path, folder: Path, limit: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "PUBLIC_BASE_URL": base,
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "bench",
        "INITIAL_PASSWORD_KEY": "bench",
        "FORM_SIGNING_KEY": "bench",
        "LOGIN_FAILURES_PER_ADDRESS": str(limit),
    }
    env.pop("PASSWORD_HASH_METHOD", None)  # the production hash
    bin_dir = Path(sys.executable).parent
    if not database.exists():
        subprocess.run(
            [bin_dir / "flask", "--app", "app", "init-db", "--demo"],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
        )
    log = open(folder / f"server-{port}.log", "w")  # noqa: SIM115 (the server's whole life)
    server = subprocess.Popen(
        [bin_dir / "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "app:create_app()"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            return server, base
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError((folder / f"server-{port}.log").read_text())


def housing_work(database: Path) -> tuple[int, list[str]]:
    """The housing step's id and the students it applies to (a step with no prerequisite)."""
    with sqlite3.connect(database) as raw:
        step = raw.execute(
            "SELECT steps.id FROM steps JOIN offices ON offices.id = steps.office_id WHERE code = 'DORM'"
        )
        step_id = step.fetchone()[0]
        students = [row[0] for row in raw.execute("SELECT student_id FROM students ORDER BY student_id")]
    return step_id, students


def clerk_changes(base: str, step_id: int, students: list[str], stop: float):
    """A housing clerk (its own login session) clearing, then reopening, each of its students in turn until `stop`.

    Yields (student, "clear" or "reopen", HTTP status, seconds taken); status 0 when the clerk could not log in.
    """
    browser = Browser(base)
    if browser.log_in("housing", "housing-demo") != 302:
        yield "", "login", 0, 0.0
        return
    token = browser.token("/account")
    mine = itertools.cycle(students)
    while time.monotonic() < stop:
        student = next(mine)
        for action, data in (("clear", {}), ("reopen", {"reason": "bench"})):
            started = time.perf_counter()
            status, _ = browser.request(
                f"/staff/students/{student}/steps/{step_id}/{action}", {"csrf_token": token, **data}
            )
            yield student, action, status, time.perf_counter() - started


def run(base: str, database: Path, seconds: float, flood: bool) -> dict:
    step_id, students = housing_work(database)
    stop = time.monotonic() + seconds
    times: list[float] = []
    errors: list[str] = []
    outcomes: dict[int, int] = {}
    lock = threading.Lock()

    def staff(number: int) -> None:
        for _student, action, status, seconds in clerk_changes(base, step_id, students[number::STAFF_CLIENTS], stop):
            with lock:
                if action == "login":
                    errors.append("staff login failed")
                    continue
                times.append(seconds)
                if status != 302:
                    errors.append(f"staff {action}: HTTP {status}")

    def attacker(number: int) -> None:
        browser = Browser(base, ATTACKER)
        token = browser.token("/login")
        names = itertools.cycle(students[number::FLOOD_CLIENTS])
        while time.monotonic() < stop:
            status, _ = browser.request("/login", {"csrf_token": token, "username": next(names), "password": "000000"})
            with lock:
                outcomes[status] = outcomes.get(status, 0) + 1
                if status not in (200, 429):
                    errors.append(f"login: HTTP {status}")

    threads = [threading.Thread(target=staff, args=(n,)) for n in range(STAFF_CLIENTS)]
    if flood:
        threads += [threading.Thread(target=attacker, args=(n,)) for n in range(FLOOD_CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    times.sort()
    return {
        "writes": len(times),
        "per_second": len(times) / elapsed,
        "median_ms": statistics.median(times) * 1000 if times else 0,
        "p99_ms": times[int(len(times) * 0.99) - 1] * 1000 if times else 0,
        "errors": errors,
        "logins": outcomes,
    }


def show(name: str, figures: dict) -> None:
    logins = ", ".join(f"HTTP {status}: {count}" for status, count in sorted(figures["logins"].items())) or "none"
    kinds = sorted(set(figures["errors"]))
    print(
        f"{name:<34} staff writes {figures['writes']:5d} ({figures['per_second']:6.1f}/s), "
        f"median {figures['median_ms']:6.1f} ms, p99 {figures['p99_ms']:7.1f} ms, "
        f"errors {len(figures['errors'])}{' ' + str(kinds[:3]) if kinds else ''}; logins: {logins}"
    )


def main() -> None:
    arguments = sys.argv[1:]
    project = PROJECT
    if "--project" in arguments:
        at = arguments.index("--project")
        project = Path(arguments[at + 1]).resolve()
        del arguments[at : at + 2]
    seconds = float(arguments[0]) if arguments else 20.0
    print(f"code: {project}; {seconds:.0f} s per run; {STAFF_CLIENTS} staff clients, {FLOOD_CLIENTS} flooding")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        database = folder / "bench.sqlite3"
        for limit, runs in (
            (10**9, ((False, "no flood"), (True, "flood, per-address limit out of reach"))),
            (None, ((True, "flood, default per-address limit"),)),
        ):
            server, base = start_server(project, database, folder, limit or 5)
            try:
                for flood, name in runs:
                    show(name, run(base, database, seconds, flood))
            finally:
                server.terminate()
                server.wait(timeout=10)


if __name__ == "__main__":
    main()
