"""An uploaded file kept on the server between its preview and its confirm, never sent back to the browser.

The preview stores the bytes under a random name in `UPLOAD_FOLDER` (default instance/uploads/,
readable by the app's user only) and the page carries only that name and a seal: an HMAC, with the
app's secret key, of the purpose, the account, the name and the file's SHA-256. The confirm finds the
file by name, checks the seal (a tampered name, seal or file is refused) and deletes it; a file nobody
confirmed is deleted an hour later, when the next upload is stored. Every worker of one server shares
the folder; several servers must share it too (or keep a client on one server).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

LIFETIME_SECONDS = 3600
NAME = re.compile(r"[0-9a-f]{32}")


class UploadRefused(Exception):
    """The name or seal posted back does not match a file kept here: nothing is read."""


@dataclass(frozen=True)
class Kept:
    """What the confirm form carries instead of the file."""

    name: str
    seal: str


def _folder() -> Path:
    folder = Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def _seal(purpose: str, owner: int, name: str, data: bytes) -> str:
    message = json.dumps([purpose, owner, name, hashlib.sha256(data).hexdigest()]).encode()
    key = current_app.config["SECRET_KEY"]
    return hmac.new(key.encode() if isinstance(key, str) else key, message, hashlib.sha256).hexdigest()


def keep(data: bytes, purpose: str, owner: int) -> Kept:
    """Store an upload for its confirm (readable by this user only), after deleting uploads older than an hour."""
    folder = _folder()
    forget_old(folder)
    name = secrets.token_hex(16)
    descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
    except OSError:  # a full disk: no half-written file stays behind (the app answers 503)
        (folder / name).unlink(missing_ok=True)
        raise
    return Kept(name, _seal(purpose, owner, name, data))


def take(name: str, seal: str, purpose: str, owner: int) -> bytes:
    """The bytes of a kept upload whose name and seal check out; UploadRefused otherwise."""
    if not NAME.fullmatch(name or ""):
        raise UploadRefused(_l("the file to confirm is not one this server kept: upload it again"))
    forget_old()  # an hour is an hour even when nobody uploads again
    try:
        data = (_folder() / name).read_bytes()
    except FileNotFoundError:
        raise UploadRefused(
            _l("the preview has expired (after an hour) or was already confirmed: upload the file again")
        ) from None
    if not hmac.compare_digest(_seal(purpose, owner, name, data), seal or ""):
        raise UploadRefused(_l("the file to confirm is not one this server kept: upload it again"))
    return data


def discard(name: str) -> None:
    """Delete a kept upload once its confirm has used it."""
    if NAME.fullmatch(name or ""):
        (_folder() / name).unlink(missing_ok=True)


def forget_old(folder: Path | None = None) -> None:
    """Delete the uploads kept longer than an hour (a preview nobody confirmed)."""
    folder = folder or _folder()
    oldest = time.time() - LIFETIME_SECONDS
    for path in folder.iterdir():
        try:
            if NAME.fullmatch(path.name) and path.stat().st_mtime < oldest:
                path.unlink()
        except FileNotFoundError:  # another worker deleted it first
            continue
