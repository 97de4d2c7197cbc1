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

from flask import Flask

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
    "LANGUAGES": ("en", "zh_Hans_CN"),
    "BABEL_DEFAULT_LOCALE": "en",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "LOCKOUT_ATTEMPTS": 5,
    "LOCKOUT_MINUTES": 15,
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
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config.from_pyfile("config.py", silent=True)
        for name in ENVIRONMENT_NAMES:
            if os.environ.get(name):
                app.config[name] = os.environ[name]
        _generate_missing_keys(app)
    else:
        app.config.update(test_config)
    app.config.setdefault("DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'leaving.sqlite3'}")
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    # Served over HTTPS: session cookies never travel in clear text.
    app.config.setdefault("SESSION_COOKIE_SECURE", app.config["PUBLIC_BASE_URL"].startswith("https://"))
    for key in GENERATED_KEYS:
        if not app.config.get(key):
            raise RuntimeError(f"{key} is not configured")


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
            with open(config_file, "a", encoding="utf-8") as out:
                os.chmod(config_file, 0o600)
                out.write("# Generated on first start. Keep secret; back it up with the database.\n")
                for key in still_missing:
                    value = secrets.token_urlsafe(48)
                    out.write(f"{key} = {value!r}\n")
                    app.config[key] = value
