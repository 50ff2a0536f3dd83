"""Slowing password guessing without locking out a test centre behind one address.

Two counts of failed password checks inside a window decide whether a try may go on:

- per account and address: a few failures, then that address must wait for that account;
- per account overall: many failures (from many addresses) refuse only the addresses that
  took part in them, so the owner on a clean address with the right password gets in.

Nothing is counted per address alone: hundreds of candidates share a test centre's
address, and one room's typing mistakes must not lock everyone in it out.

A try is recorded, and committed, before the slow password hash runs, under a lock on the
account's key, so parallel tries can never overshoot a limit; a try that turns out right
is taken back.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, select, text
from sqlalchemy.orm import Session

from accounts.models import SignInFailure
from accounts.services.validation import EMAIL_MAX, email_key
from core import clock
from core.errors import Problem


class SignInThrottled(Problem):
    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            429,
            "Too many failed sign-ins",
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' * (minutes != 1)}.",
            headers={"Retry-After": str(retry_after)},
            slug="sign-in-throttled",
        )


@dataclass(frozen=True)
class ThrottlePolicy:
    max_per_account_address: int
    max_per_account: int
    window: timedelta

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ThrottlePolicy:
        return cls(
            max_per_account_address=config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"],
            max_per_account=config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT"],
            window=timedelta(seconds=config["SIGN_IN_FAILURE_WINDOW_SECONDS"]),
        )


@dataclass(frozen=True)
class PasswordTry:
    """A password check under way, already counted as a failure until it is forgiven."""

    failure_id: int
    key: str
    address: str


def account_key(email: str) -> str:
    return email_key(email[:EMAIL_MAX])


def _lock_account(session: Session, key: str) -> None:
    """Serialise counting for one account. SQLite's write sessions already hold the whole
    database's write lock (``BEGIN IMMEDIATE``); PostgreSQL takes a transaction lock on
    the account's key, which unknown emails have too."""
    if session.get_bind().dialect.name == "postgresql":
        lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _unblocked_at(
    session: Session, where: ColumnElement[bool], limit: int, window: timedelta
) -> datetime | None:
    """When the oldest of the last ``limit`` matching failures leaves the window, if there
    are that many (``None``: not blocked)."""
    recent = (
        select(SignInFailure.occurred_at)
        .where(where)
        .order_by(SignInFailure.occurred_at.desc())
        .limit(limit)
    )
    times = list(session.scalars(recent))
    if limit <= 0 or len(times) < limit:
        return None
    return times[-1] + window


def _wait_seconds(session: Session, key: str, address: str, policy: ThrottlePolicy) -> int:
    since = clock.now() - policy.window
    in_window = and_(SignInFailure.email_key == key, SignInFailure.occurred_at > since)
    from_here = and_(in_window, SignInFailure.remote_address == address)
    until = [_unblocked_at(session, from_here, policy.max_per_account_address, policy.window)]
    account_until = _unblocked_at(session, in_window, policy.max_per_account, policy.window)
    if account_until is not None:
        # Only addresses that took part are refused, until their own part leaves the window.
        last_here = session.scalar(select(func.max(SignInFailure.occurred_at)).where(from_here))
        if last_here is not None:
            until.append(min(account_until, last_here + policy.window))
    blocked = [moment for moment in until if moment is not None]
    if not blocked:
        return 0
    return max(1, math.ceil((max(blocked) - clock.now()).total_seconds()))


def begin_try(session: Session, email: str, address: str, policy: ThrottlePolicy) -> PasswordTry:
    """Refuse a throttled try, or record it as a failure and commit, before the hash runs."""
    key, address = account_key(email), address[:64]
    _lock_account(session, key)
    wait = _wait_seconds(session, key, address, policy)
    if wait:
        session.rollback()
        raise SignInThrottled(wait)
    now = clock.now()
    failure = SignInFailure(email_key=key, remote_address=address, occurred_at=now)
    session.add(failure)
    # Keep the table small: failures older than the window count for nothing.
    session.execute(delete(SignInFailure).where(SignInFailure.occurred_at < now - policy.window))
    session.flush()
    attempt = PasswordTry(failure.id, key, address)
    session.commit()
    return attempt


def forgive(session: Session, attempt: PasswordTry) -> None:
    """The password was right: take back this try and the address's earlier failures on
    the account (the caller commits). Other addresses' failures stay counted."""
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.email_key == attempt.key,
            SignInFailure.remote_address == attempt.address,
        )
    )
    session.execute(delete(SignInFailure).where(SignInFailure.id == attempt.failure_id))
