"""gunicorn's settings for this app: `gunicorn --config gunicorn.conf.py` (docs/OPERATIONS.md).

gunicorn also reads this file by itself when started in this folder, so `make run` and the browser tests go
through the same start-up check; settings given on the command line win over the ones here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Files the server writes (the SQLite database, its -wal and -shm) are for the app's user only.
os.umask(0o077)
umask = 0o077  # gunicorn's own: a Unix socket it binds

wsgi_app = "app:create_app()"
bind = [address.strip() for address in os.environ.get("BIND", "127.0.0.1:8000").split(",") if address.strip()]
# Sync workers: one SQLite writer at a time anyway, and they spread the load evenly (docs/OPERATIONS.md).
workers = int(os.environ.get("WORKERS", "3"))
worker_class = "sync"
timeout = 60  # the largest student import takes a few seconds; a stuck worker is replaced after this
graceful_timeout = 30
keepalive = 5  # behind a proxy on the same machine

# The client's scheme and address come from ProxyFix, as TRUSTED_PROXIES says (serving.py): gunicorn itself
# trusts no forwarded header, so the two can never disagree.
secure_scheme_headers: dict[str, str] = {}
forwarded_allow_ips = ""

accesslog = "-"
errorlog = "-"
# The path without its query string (%(U)s, not %(r)s): a query may hold what was searched or a token.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'


def on_starting(server) -> None:
    """Before binding: refuse to serve other machines without PUBLIC_BASE_URL, or with demo logins."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import serving
    from app import create_app
    from database import db

    app = create_app()
    try:
        refusals = serving.start_refusals(app, server.cfg.address)
    finally:
        with app.app_context():
            db.engine.dispose()  # no connection of the master's is inherited by the workers
    if refusals:
        # gunicorn prints a RuntimeError raised here as "Error: …" and exits with status 1, before binding.
        raise RuntimeError("refusing to start:\n  - " + "\n  - ".join(refusals))
