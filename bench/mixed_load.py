"""Students reading while an office clears (issue 11's "done when", issue 13's mixed load). Prints figures; never fails.

Run: .venv/bin/python -m bench.mixed_load [seconds]. Builds a demo database, starts gunicorn with two sync
workers (the production hash), lets the demo students log in once (changing their initial password), then
for `seconds` (default 20) runs 12 student clients reading their checklist and 4 staff clients of the
housing office clearing and reopening those students' housing step: 16 connections in all.

Lost updates: every clear or reopen the server answered 302 must be exactly one audit event of that
action by the housing account, and every student's housing step must end in the state of the last
change the bench made to it.
"""

from __future__ import annotations

import csv
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.login_flood import PROJECT, Browser, clerk_changes, housing_work, start_server

STUDENT_CLIENTS, STAFF_CLIENTS = 12, 4
NEW_PASSWORD = "Bench-mixed-load-2026"
AUDITED = {"clear": "step.cleared", "reopen": "step.reopened"}
STATE_AFTER = {"clear": "cleared", "reopen": "pending"}


def passport_passwords() -> dict[str, str]:
    """The demo students' initial passwords, from seed_data.csv by the one rule."""
    from accounts import initial_password

    with (PROJECT / "seed_data.csv").open(encoding="utf-8-sig", newline="") as seed:
        return {row["student_id"]: initial_password(row["passport_no"]) for row in csv.DictReader(seed)}


def student_reader(base: str, student: str, password: str) -> Browser | None:
    """A student logged in with a chosen password (the first login changes the initial one)."""
    browser = Browser(base)
    if browser.log_in(student, password) != 302:
        return None
    token = browser.token("/password")
    browser.request(
        "/password",
        {"csrf_token": token, "current_password": password, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    return browser


def percentile(times: list[float], share: float) -> float:
    return times[max(0, int(len(times) * share) - 1)] * 1000 if times else 0.0


def run(base: str, database: Path, seconds: float) -> dict:
    step_id, students = housing_work(database)
    initial = passport_passwords()
    readers = [b for b in (student_reader(base, s, initial[s]) for s in students[:STUDENT_CLIENTS]) if b]
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    reads, writes, errors = [], [], []
    done: dict[str, int] = {"step.cleared": 0, "step.reopened": 0}
    last: dict[str, str] = {}

    def read(browser: Browser) -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            status, _ = browser.request("/checklist")
            with lock:
                reads.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(f"checklist: HTTP {status}")

    def clear(number: int) -> None:
        changes = clerk_changes(base, step_id, students[number::STAFF_CLIENTS], stop)
        for student, action, status, seconds in changes:
            with lock:
                if action == "login":
                    errors.append("staff login failed")
                    continue
                writes.append(seconds)
                if status == 302:
                    done[AUDITED[action]] += 1
                    last[student] = STATE_AFTER[action]
                else:
                    errors.append(f"staff {action}: HTTP {status}")

    threads = [threading.Thread(target=read, args=(b,)) for b in readers]
    threads += [threading.Thread(target=clear, args=(n,)) for n in range(STAFF_CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "elapsed": elapsed,
        "readers": len(readers),
        "reads": sorted(reads),
        "writes": sorted(writes),
        "errors": errors,
        "lost": lost_updates(database, step_id, done, last),
    }


def lost_updates(database: Path, step_id: int, done: dict[str, int], last: dict[str, str]) -> list[str]:
    """What the database holds that differs from what the server said it did."""
    problems = []
    with sqlite3.connect(database) as raw:
        for action, count in done.items():
            audited = raw.execute(
                "SELECT count(*) FROM audit_events WHERE action = ? AND actor_label = 'housing'", (action,)
            ).fetchone()[0]
            if audited != count:
                problems.append(f"{action}: {count} answered 302, {audited} audited")
        states = dict(
            raw.execute(
                "SELECT students.student_id, step_statuses.state FROM step_statuses "
                "JOIN students ON students.id = step_statuses.student_id WHERE step_statuses.step_id = ?",
                (step_id,),
            ).fetchall()
        )
    for student, state in last.items():
        if states.get(student, "").lower() != state:
            problems.append(f"{student}: ends {states.get(student)!r}, the last change made it {state}")
    return problems


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        database = folder / "bench.sqlite3"
        server, base = start_server(PROJECT, database, folder, 5)
        try:
            figures = run(base, database, seconds)
        finally:
            server.terminate()
            server.wait(timeout=10)
    reads, writes, elapsed = figures["reads"], figures["writes"], figures["elapsed"]
    print(f"{seconds:.0f} s, {figures['readers']} students reading, {STAFF_CLIENTS} staff clearing (16 connections)")
    for name, times in (("checklist reads", reads), ("staff writes", writes)):
        print(
            f"{name:<16} {len(times):6d} ({len(times) / elapsed:6.1f}/s), median {percentile(times, 0.5):6.1f} ms, "
            f"p99 {percentile(times, 0.99):7.1f} ms"
        )
    both = sorted(reads + writes)
    errors = figures["errors"]
    print(f"all requests     p99 {percentile(both, 0.99):7.1f} ms; errors {len(errors)} {errors[:3]}")
    print(f"lost updates     {len(figures['lost'])} {figures['lost'][:5]}")


if __name__ == "__main__":
    main()
