"""Local accounts: argon2id password hashes, rate-limited sign-in, per-role sessions.

Each account has one role (viewer, editor, reviewer, admin), which is a
PostgreSQL group role with its own grants and row-level-security policies
(migration 0002): after sign-in the dashboard's connection runs ``SET ROLE``
so the *database* enforces what the account may do, not only the UI.

There is no default account and no default password: :func:`add_user`
refuses a password shorter than :data:`MIN_PASSWORD_LENGTH`. Sign-in
attempts are recorded (never the password) and an account with
:data:`MAX_FAILURES` failures within :data:`FAILURE_WINDOW` is locked until
the window passes; the Python log names accounts only by a short hash.

Example
-------
>>> role_of("editor")
'cmf_editor'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from psycopg import sql

#: Account roles and the PostgreSQL group role each one runs as.
ROLES: dict[str, str] = {
    "viewer": "cmf_viewer",
    "editor": "cmf_editor",
    "reviewer": "cmf_reviewer",
    "admin": "cmf_admin",
}
#: The role the dashboard logs in as; it can only switch to the roles above.
APP_ROLE = "cmf_app"
MIN_PASSWORD_LENGTH = 12
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,62}$")
_HASHER = PasswordHasher()
# Verified against when the account does not exist, so a missing account takes as
# long to refuse as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of any account")
log = logging.getLogger(__name__)


class AccountError(ValueError):
    """An account cannot be created as asked; the message says why."""


class SignInError(PermissionError):
    """Sign-in refused. The message is the same for a wrong name or password."""


class SignInLockedError(SignInError):
    """Too many failed attempts; try again after ``retry_after``."""

    def __init__(self, retry_after: dt.datetime):
        self.retry_after = retry_after
        super().__init__(
            f"too many failed sign-ins; try again after {retry_after:%H:%M} UTC")


@dataclass(frozen=True)
class Account:
    """A signed-in account: its name and role."""

    name: str
    role: str


def role_of(role: str) -> str:
    """The PostgreSQL role an account role runs as."""
    try:
        return ROLES[role]
    except KeyError:
        raise AccountError(f"unknown role {role!r}; expected one of {list(ROLES)}") from None


def _tag(name: str) -> str:
    """A short, stable, non-reversible label of an account name for logs."""
    return "acct-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]


def add_user(conn: psycopg.Connection, name: str, role: str, password: str) -> Account:
    """Create an account whose password is stored as an argon2id hash."""
    if not _NAME.match(name):
        raise AccountError(
            f"account name {name!r}: expected 2-63 characters, lowercase letters, digits, "
            "'.', '_' or '-', starting with a letter")
    role_of(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    try:
        with conn.transaction():
            conn.execute("INSERT INTO accounts (name, role, password_hash) VALUES (%s, %s, %s)",
                         (name, role, _HASHER.hash(password)))
    except psycopg.errors.UniqueViolation:
        raise AccountError(f"account {name!r} exists already") from None
    log.info("account created: %s (%s)", _tag(name), role)
    return Account(name, role)


def _record_attempt(conn: psycopg.Connection, name: str, ok: bool, outcome: str) -> None:
    conn.execute("INSERT INTO sign_in_attempts (account, succeeded, outcome) VALUES (%s, %s, %s)",
                 (name, ok, outcome))


def sign_in(conn: psycopg.Connection, name: str, password: str) -> Account:
    """Check a password; every attempt is recorded, repeated failures lock the account.

    Raises
    ------
    SignInLockedError
        :data:`MAX_FAILURES` failures within :data:`FAILURE_WINDOW` (the
        password is then not even checked).
    SignInError
        Wrong name or password, or a disabled account (one message for all).
    """
    with conn.transaction():
        failures, oldest = conn.execute(
            "SELECT count(*), min(at) FROM sign_in_attempts WHERE account = %s "
            "AND NOT succeeded AND outcome <> 'locked' AND at > clock_timestamp() - %s",
            (name, FAILURE_WINDOW)).fetchone()
        locked = failures >= MAX_FAILURES
        row = None if locked else conn.execute(
            "SELECT role, password_hash FROM accounts WHERE name = %s AND disabled_at IS NULL",
            (name,)).fetchone()
        ok = False
        if not locked:
            try:
                _HASHER.verify(row[1] if row else _DUMMY_HASH, password)
                ok = row is not None
            except (VerificationError, InvalidHashError):
                ok = False
        _record_attempt(conn, name, ok,
                        "locked" if locked else "ok" if ok else "bad name or password")
    if locked:
        log.warning("sign-in refused, account locked: %s", _tag(name))
        raise SignInLockedError(oldest + FAILURE_WINDOW)
    if not ok:
        log.warning("sign-in failed: %s", _tag(name))
        raise SignInError("wrong account name or password")
    log.info("signed in: %s", _tag(name))
    return Account(name, row[0])


def start_session(conn: psycopg.Connection, account: Account) -> psycopg.Connection:
    """Switch ``conn`` to the account's database role; returns it.

    ``conn`` must be logged in as a member of the role (``cmf_app`` is a
    member of all four). From here on the database enforces the role's grants
    and row-level security on every statement.
    """
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role_of(account.role))))
    conn.execute("SELECT set_config('cmf.account', %s, false)", (account.name,))
    return conn


def enable_app_login(conn: psycopg.Connection, password: str) -> None:
    """Let ``cmf_app`` log in with ``password`` (the dashboard's connection)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
        sql.Identifier(APP_ROLE), sql.Literal(password)))
