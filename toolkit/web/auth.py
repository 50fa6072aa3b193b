"""Users, passwords and sign-in sessions of the review queue.

Passwords are hashed with Argon2id (argon2-cffi). A session is a random
token in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS); the
database keeps only the token's SHA-256, so a copy of the database signs
nobody in. Forms carry a CSRF token derived from the browser's cookie and
the server's key (:func:`csrf_token`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select

from .store import ROLES, LoginSession, Store, User, utcnow

#: How long a sign-in lasts.
SESSION_HOURS = 12
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 10

_HASHER = PasswordHasher()
# Verified against when a user name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY = _HASHER.hash("an unused password")


class AuthError(ValueError):
    """A user that cannot be created: the reason, for the user."""


def create_user(store: Store, username: str, password: str, role: str = "reviewer") -> User:
    """Add a user. Raises :class:`AuthError` for a bad name, a short password, an unknown role or a taken name."""
    if not USERNAME.match(username):
        raise AuthError(f"`{username}` is not a valid user name: letters, digits and . _ @ -, at most 64")
    if role not in ROLES:
        raise AuthError(f"`{role}` is not a role: use {' or '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"a password needs at least {MIN_PASSWORD} characters")
    with store.session() as s:
        if s.scalars(select(User).where(User.username == username)).first() is not None:
            raise AuthError(f"user `{username}` already exists")
        user = User(username=username, password_hash=_HASHER.hash(password), role=role, created_at=utcnow())
        s.add(user)
        s.commit()
        return user


def authenticate(store: Store, username: str, password: str) -> User | None:
    """The user with this name and password, or None."""
    with store.session() as s:
        user = s.scalars(select(User).where(User.username == username)).first()
        try:
            _HASHER.verify(user.password_hash if user else _DUMMY, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user is None:
            return None
        if _HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = _HASHER.hash(password)
            s.commit()
        return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(store: Store, user: User) -> str:
    """A new session for a user; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with store.session() as s:
        s.execute(delete(LoginSession).where(LoginSession.expires_at < now))
        s.add(LoginSession(token_hash=_digest(token), user_id=user.id, created_at=now,
                           expires_at=now + dt.timedelta(hours=SESSION_HOURS)))
        s.commit()
    return token


def session_user(store: Store, token: str | None) -> User | None:
    """The user a session cookie signs in, if the session exists and has not expired."""
    if not token or len(token) > 128:
        return None
    with store.session() as s:
        row = s.get(LoginSession, _digest(token))
        if row is None or row.expires_at <= utcnow():
            return None
        user = s.get(User, row.user_id)
        return user


def end_session(store: Store, token: str | None) -> None:
    if token:
        with store.session() as s:
            s.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))
            s.commit()


def csrf_token(key: str, browser: str) -> str:
    """The token a form must send back: an HMAC of the browser's cookie under the server's key."""
    return hmac.new(key.encode(), b"csrf:" + browser.encode("ascii", "replace"), hashlib.sha256).hexdigest()


def csrf_ok(key: str, browser: str | None, sent: Any) -> bool:
    if not browser or not isinstance(sent, str):
        return False
    return hmac.compare_digest(csrf_token(key, browser), sent)
