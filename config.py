"""Configuration: defaults, `instance/config.py`, then environment variables of the same names.

The three keys are separate on purpose: rotating SECRET_KEY (sessions) must neither
void printed forms (FORM_SIGNING_KEY) nor lock students out (INITIAL_PASSWORD_KEY).
Keys that are given nowhere are generated once into `instance/config.py`.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask

import serving

GENERATED_KEYS = ("SECRET_KEY", "INITIAL_PASSWORD_KEY", "FORM_SIGNING_KEY")
ENVIRONMENT_NAMES = (
    *GENERATED_KEYS,
    "DATABASE_URL",
    "PUBLIC_BASE_URL",
    "UNIVERSITY_TZ",
    "UNIVERSITY_NAME_EN",
    "UNIVERSITY_NAME_ZH",
    "SCHOOL_NAME_EN",
    "SCHOOL_NAME_ZH",
    "HELP_DESK_EN",
    "HELP_DESK_ZH",
    "HELP_PHONE",
    "HELP_MOBILE",
    "HELP_PERSON_EN",
    "HELP_PERSON_ZH",
    "HELP_MOBILE_ZH",
    "PASSWORD_HASH_METHOD",
    "TRUSTED_PROXIES",
    "TRUSTED_HOSTS",
    "UPLOAD_FOLDER",
)
# The login limits and session lifetimes, whole numbers, also from the environment (login_limits.py).
LOGIN_NUMBERS = (
    "LOCKOUT_ATTEMPTS",
    "LOCKOUT_MINUTES",
    "LOGIN_FAILURES_PER_ADDRESS",
    "LOGIN_FAILURE_WINDOW",
    "LOGIN_SLOWDOWN_SECONDS",
    "INITIAL_PASSWORD_DAYS",
    "SESSION_IDLE_MINUTES_STAFF",
    "SESSION_IDLE_MINUTES_STUDENT",
    "SESSION_LIFETIME_HOURS",
)

DEFAULTS = {
    "UNIVERSITY_TZ": "Asia/Shanghai",
    "UNIVERSITY_NAME_EN": "Wenzhou Medical University",
    "UNIVERSITY_NAME_ZH": "温州医科大学",
    "SCHOOL_NAME_EN": "School of International Studies",
    "SCHOOL_NAME_ZH": "国际教育学院",
    "HELP_DESK_EN": "Network and Information Center",
    "HELP_DESK_ZH": "网络与信息中心",
    "HELP_PHONE": "86699251 (ext. 8251)",
    "HELP_MOBILE": "13676797531",
    # The notice's Chinese text names the contact person and gives the campus short number instead.
    "HELP_PERSON_EN": "",
    "HELP_PERSON_ZH": "应老师",
    "HELP_MOBILE_ZH": "664531",
    "PUBLIC_BASE_URL": "",
    # How many reverse proxies stand in front of the app (ProxyFix trusts that many X-Forwarded-* hops).
    "TRUSTED_PROXIES": 0,
    # Host names served besides PUBLIC_BASE_URL's (comma-separated in the environment); loopback always.
    "TRUSTED_HOSTS": (),
    "LANGUAGES": ("en", "zh_Hans_CN"),
    "BABEL_DEFAULT_LOCALE": "en",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "LOCKOUT_ATTEMPTS": 5,  # failures of one name from one address within LOCKOUT_MINUTES lock that pair
    "LOCKOUT_MINUTES": 15,
    # Guessing across names (login_limits.py): failures from one client address within the window (seconds),
    # then 429; a name with LOCKOUT_ATTEMPTS failures takes one attempt every LOGIN_SLOWDOWN_SECONDS elsewhere.
    "LOGIN_FAILURES_PER_ADDRESS": 5,
    "LOGIN_FAILURE_WINDOW": 60,
    "LOGIN_SLOWDOWN_SECONDS": 5,
    "INITIAL_PASSWORD_DAYS": 30,  # the passport-digit password works this long after the account is made
    # Login sessions (login_sessions.py) end after this long unused, and this long after login in any case.
    "SESSION_IDLE_MINUTES_STAFF": 30,  # staff, desk and admin
    "SESSION_IDLE_MINUTES_STUDENT": 120,
    "SESSION_LIFETIME_HOURS": 12,
    "ONE_TIME_PASSWORD_DAYS": 7,
    # Werkzeug's method for chosen passwords. Production keeps scrypt; the tests use a cheap one
    # (one test keeps scrypt), since hashing in fixtures would otherwise dominate the suite's time.
    "PASSWORD_HASH_METHOD": "scrypt",
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
}


def load_config(app: Flask, test_config: dict | None) -> None:
    """Fill app.config from defaults, instance/config.py, the environment, then test_config."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        Path(app.instance_path).mkdir(mode=serving.PRIVATE_FOLDER, parents=True, exist_ok=True)
        app.config.from_pyfile("config.py", silent=True)
        for name in ENVIRONMENT_NAMES:
            if os.environ.get(name):
                app.config[name] = os.environ[name]
        for name in LOGIN_NUMBERS:
            if os.environ.get(name):
                app.config[name] = int(os.environ[name])
        _generate_missing_keys(app)
    else:
        app.config.update(test_config)
    app.config.setdefault("DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'leaving.sqlite3'}")
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    _check_serving_keys(app)
    # Served over HTTPS: session cookies never travel in clear text (serving.py: also any request over HTTPS).
    # Not setdefault: Flask's own defaults hold SESSION_COOKIE_SECURE = False already.
    secure = app.config["SESSION_COOKIE_SECURE"] or app.config["PUBLIC_BASE_URL"].startswith("https://")
    app.config["SESSION_COOKIE_SECURE"] = secure
    for key in GENERATED_KEYS:
        if not app.config.get(key):
            raise RuntimeError(f"{key} is not configured")


def _check_serving_keys(app: Flask) -> None:
    """PUBLIC_BASE_URL a URL, TRUSTED_PROXIES a number, TRUSTED_HOSTS the hosts Flask answers (else 400)."""
    public = app.config["PUBLIC_BASE_URL"] = (app.config["PUBLIC_BASE_URL"] or "").rstrip("/")
    parts = urlsplit(public)
    if public and (parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment):
        raise RuntimeError(f"PUBLIC_BASE_URL must look like https://leaving.example.edu, not {public!r}")
    try:
        app.config["TRUSTED_PROXIES"] = int(app.config["TRUSTED_PROXIES"] or 0)
    except ValueError:
        raise RuntimeError(f"TRUSTED_PROXIES must be a number, not {app.config['TRUSTED_PROXIES']!r}") from None
    hosts = app.config["TRUSTED_HOSTS"]
    hosts = [host.strip() for host in (hosts.split(",") if isinstance(hosts, str) else hosts or ()) if host.strip()]
    if public:
        hosts.insert(0, parts.hostname)
    if hosts or not (app.debug or app.testing):
        # Unconfigured outside debug and testing: only this machine's names, so no Host header makes links.
        hosts += [name for name in serving.LOOPBACK_NAMES if name not in hosts]
        app.config["TRUSTED_HOSTS"] = hosts
    else:
        app.config["TRUSTED_HOSTS"] = None  # debug or testing with nothing configured: any host


def _generate_missing_keys(app: Flask) -> None:
    """Append any missing key to instance/config.py, under a lock so workers agree on one."""
    missing = [key for key in GENERATED_KEYS if not app.config.get(key)]
    if not missing:
        return
    config_file = Path(app.instance_path) / "config.py"
    with open(Path(app.instance_path) / ".config.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        app.config.from_pyfile("config.py", silent=True)  # another worker may have written them
        still_missing = [key for key in missing if not app.config.get(key)]
        if still_missing:
            # Created readable by this user only: the secrets are never, even for a moment, world-readable.
            created = os.open(config_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, serving.PRIVATE_FILE)
            with open(created, "a", encoding="utf-8") as out:
                os.chmod(config_file, serving.PRIVATE_FILE)
                out.write("# Generated on first start. Keep secret; back it up with the database.\n")
                for key in still_missing:
                    value = secrets.token_urlsafe(48)
                    out.write(f"{key} = {value!r}\n")
                    app.config[key] = value
