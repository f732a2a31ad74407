"""Sign-in for the chat page: a file of users with salted, slow password hashes.

The file holds one user a line, `name:scrypt$N$r$p$SALT$HASH` (SALT and HASH in base64); blank
lines and lines starting with # are ignored. `python app.py --add-user NAME --auth FILE` adds a
user or changes a password; nothing else needs to write it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from pathlib import Path

from bot.errors import UsageError

SCHEME = "scrypt"
# scrypt cost: about 16 MB and a few tens of milliseconds per check, so a stolen file is slow to
# guess from, while a sign-in stays quick.
N, R, P = 2**14, 8, 1
MIN_PASSWORD_CHARS = 8
_NAME = re.compile(r"[A-Za-z0-9._@+-]{1,64}")
# A failed sign-in waits this long, which slows guessing through the login form.
FAILED_SIGN_IN_DELAY_S = 0.5


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p,
                          maxmem=128 * r * (n + p + 2) + 2**20, dklen=32)


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$SALT$HASH` for password, with a fresh random salt."""
    salt = secrets.token_bytes(16)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(_scrypt(password, salt, N, R, P))}"


def _parse(stored: str) -> tuple[bytes, int, int, int, bytes]:
    scheme, n, r, p, salt, digest = stored.split("$")
    n_, r_, p_ = int(n), int(r), int(p)
    # Bounds keep one check affordable whatever the file says.
    if scheme != SCHEME or not (2 <= n_ <= 2**17 and n_ & (n_ - 1) == 0 and 1 <= r_ <= 32 and 1 <= p_ <= 16):
        raise ValueError(stored)
    return base64.b64decode(salt, validate=True), n_, r_, p_, base64.b64decode(digest, validate=True)


def verify_password(password: str, stored: str) -> bool:
    try:
        salt, n, r, p, digest = _parse(stored)
    except ValueError:
        return False
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), digest)


def _split(line: str) -> tuple[str, str] | None:
    """(name, hash) of a user line; None for a blank line or a comment."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    name, _, stored = line.partition(":")
    return name, stored


def _check_line(path: Path, number: int, name: str, stored: str) -> None:
    """A UsageError naming the line where it is not NAME:HASH as `add_user` writes it."""
    try:
        if not _NAME.fullmatch(name):
            raise ValueError(name)
        _parse(stored)
    except ValueError:
        raise UsageError(f"{path} line {number}: expected NAME:{SCHEME}$N$r$p$SALT$HASH, as written by "
                         "python app.py --add-user NAME --auth FILE") from None


def read_users(path: Path) -> dict[str, str]:
    """name -> stored hash. A missing, unreadable or malformed file is a UsageError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"sign-in file not found: {path} (create it with: python app.py --add-user NAME "
                         f"--auth {path})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the sign-in file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        entry = _split(line)
        if entry is None:
            continue
        name, stored = entry
        _check_line(path, number, name, stored)
        users[name] = stored
    if not users:
        raise UsageError(f"the sign-in file {path} has no users: add one with python app.py --add-user NAME "
                         f"--auth {path}")
    return users


def add_user(path: Path, name: str, password: str) -> bool:
    """Add name to the file (created if missing) or change its password; True if it was there before.
    The file is replaced in one step and readable by its owner only."""
    if not _NAME.fullmatch(name):
        raise UsageError(f"user name {name!r} must be 1 to 64 letters, digits or . _ @ + -")
    if len(password) < MIN_PASSWORD_CHARS:
        raise UsageError(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the sign-in file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    line = f"{name}:{hash_password(password)}"
    found = False
    for i, old in enumerate(lines):
        entry = _split(old)
        if entry is not None and entry[0] == name:
            lines[i], found = line, True
        elif entry is not None:  # the page would refuse to start on a damaged file: say so now
            _check_line(path, i + 1, *entry)
    if not found:
        lines.append(line)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise UsageError(f"cannot write the sign-in file {path}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return found


class Authenticator:
    """The users of one sign-in file, checked the way Gradio's `launch(auth=...)` asks."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        # Unknown names are checked against this, so a wrong name costs as long as a wrong password.
        self._decoy = hash_password(secrets.token_urlsafe(16))

    @classmethod
    def from_file(cls, path: Path) -> "Authenticator":
        return cls(read_users(path))

    async def check(self, username: str, password: str) -> bool:
        stored = self.users.get(username)
        # The hash runs in a thread: the server keeps answering other requests meanwhile.
        ok = await asyncio.to_thread(verify_password, password, stored or self._decoy)
        if ok and stored is not None:
            return True
        await asyncio.sleep(FAILED_SIGN_IN_DELAY_S)
        return False
