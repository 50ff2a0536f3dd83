"""Sign-in throttling: guessing one account is slowed, a test centre behind one address is
not locked out, nobody can lock an owner out, and parallel guesses never overshoot."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from accounts import services
from accounts.models import SignInFailure, User, UserRole
from accounts.passwords import hash_password
from core import clock as core_clock
from core.db import get_db
from tests.conftest import STRONG_PASSWORD, post_form, sign_in

CENTRE = "203.0.113.10"  # one NAT address for a whole test centre
HOME = "198.51.100.7"  # the owner's own address
WRONG = "wrong-password-guess"
ROOM = 120


def _from(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _sign_in_from(client: FlaskClient, address: str, email: str, password: str) -> Any:
    page = client.get("/sign-in", **_from(address)).get_data(as_text=True)
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    data = {"csrf_token": token, "email": email, "password": password}
    return client.post("/sign-in", data=data, **_from(address))


def _token_from(client: FlaskClient, address: str, email: str, password: str) -> Any:
    return client.post(
        "/api/v1/tokens", json={"email": email, "password": password}, **_from(address)
    )


def _failures(app: Flask) -> int:
    with get_db(app).read_sessions() as session:
        return session.scalar(select(func.count()).select_from(SignInFailure)) or 0


def test_one_account_from_one_address_is_throttled_even_for_the_right_password(
    app: Flask, client: FlaskClient, make_user, clock
) -> None:
    user = make_user()
    limit = app.config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"]
    for _ in range(limit):
        assert sign_in(client, user.email, WRONG).status_code == 401
    blocked = sign_in(client, user.email)
    assert blocked.status_code == 429
    retry_after = int(blocked.headers["Retry-After"])
    assert 0 < retry_after <= app.config["SIGN_IN_FAILURE_WINDOW_SECONDS"]
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)
    api = client.post("/api/v1/tokens", json={"email": user.email, "password": STRONG_PASSWORD})
    assert api.status_code == 429 and int(api.headers["Retry-After"]) > 0

    clock.advance(seconds=retry_after - 5)
    assert sign_in(client, user.email).status_code == 429
    clock.advance(seconds=10)
    assert sign_in(client, user.email).status_code == 302


def test_a_test_centre_of_mistyping_candidates_all_sign_in(make_app, clock) -> None:
    """120 candidates behind one address, one in three mistyping their email or password
    up to four times (80 failures in all): every one of them signs in, as in
    bench/test_centre.py with 300."""
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.app_context(), get_db(app).write_sessions() as session:
        shared_hash = hash_password(STRONG_PASSWORD)
        for n in range(ROOM):
            email = f"candidate{n}@example.org"
            user = User(
                email=email,
                email_key=email,
                given_name="Cand",
                family_name=f"Idate{n}",
                password_hash=shared_hash,
                created_at=core_clock.now(),
            )
            user.role_rows.append(UserRole(role="candidate"))
            session.add(user)
        session.commit()
    statuses: Counter[int] = Counter()
    for n in range(ROOM):
        client = app.test_client()
        email = f"candidate{n}@example.org"
        for typo in range(n % 5 if n % 3 == 0 else 0):
            # A mistyped email (failures no success of theirs clears) or password.
            wrong = {"email": email.replace("example", "exmaple"), "password": STRONG_PASSWORD}
            if typo % 2:
                wrong = {"email": email, "password": WRONG}
            assert client.post("/sign-in", data=wrong, **_from(CENTRE)).status_code == 401
        form = {"email": email, "password": STRONG_PASSWORD}
        statuses[client.post("/sign-in", data=form, **_from(CENTRE)).status_code] += 1
    assert statuses == Counter({302: ROOM})


def test_nobody_can_lock_the_owner_out_from_elsewhere(app: Flask, make_user, clock) -> None:
    """Five wrong passwords from anywhere, repeated every window, must not keep an admin
    out: their own address, with the right password, always gets in (form and API)."""
    admin = make_user("admin")
    attacker = app.test_client()
    limit = app.config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"]
    for _round in range(3):
        for _ in range(limit):
            assert _sign_in_from(attacker, CENTRE, admin.email, WRONG).status_code == 401
        assert _sign_in_from(attacker, CENTRE, admin.email, WRONG).status_code == 429
        assert _token_from(attacker, CENTRE, admin.email, STRONG_PASSWORD).status_code == 429
        owner = app.test_client()
        assert _sign_in_from(owner, HOME, admin.email, STRONG_PASSWORD).status_code == 302
        assert _token_from(owner, HOME, admin.email, STRONG_PASSWORD).status_code == 201
        clock.advance(seconds=app.config["SIGN_IN_FAILURE_WINDOW_SECONDS"] + 1)


def test_the_account_limit_refuses_only_the_addresses_that_took_part(
    make_app, make_user, clock
) -> None:
    app = make_app(SIGN_IN_MAX_FAILURES_PER_ACCOUNT=6)
    user = make_user()
    guessers = [f"192.0.2.{n}" for n in (1, 2, 3)]
    client = app.test_client()
    for address in guessers:
        for _ in range(2):
            assert _token_from(client, address, user.email, WRONG).status_code == 401
    # Each guesser is below its own limit of five, but together they reached six.
    for address in guessers:
        refused = _token_from(client, address, user.email, STRONG_PASSWORD)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert _sign_in_from(client, HOME, user.email, STRONG_PASSWORD).status_code == 302
    assert _token_from(client, "192.0.2.99", user.email, STRONG_PASSWORD).status_code == 201
    # The owner's success takes back nothing of the guessers' failures.
    assert _token_from(client, guessers[0], user.email, STRONG_PASSWORD).status_code == 429
    clock.advance(seconds=app.config["SIGN_IN_FAILURE_WINDOW_SECONDS"] + 1)
    assert _token_from(client, guessers[0], user.email, STRONG_PASSWORD).status_code == 201


def test_success_clears_only_this_address_failures(app: Flask, make_user, clock) -> None:
    user = make_user()
    client = app.test_client()
    limit = app.config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"]
    for _ in range(limit - 1):
        assert _token_from(client, HOME, user.email, WRONG).status_code == 401
    for _ in range(2):
        assert _token_from(client, CENTRE, user.email, WRONG).status_code == 401
    assert _token_from(client, HOME, user.email, STRONG_PASSWORD).status_code == 201
    assert _failures(app) == 2  # the other address's failures still count
    for _ in range(limit - 1):
        assert _token_from(client, HOME, user.email, WRONG).status_code == 401
    assert _token_from(client, HOME, user.email, STRONG_PASSWORD).status_code == 201


def test_parallel_wrong_passwords_never_get_more_tries_than_the_limit(
    make_app, make_user, clock
) -> None:
    """Twelve guesses at once: each try is counted, and committed, before the slow hash,
    so exactly the limit of them reach the hash (SQLite and PostgreSQL alike)."""
    # A hash slow enough that all twelve are under way together.
    app = make_app(PASSWORD_HASH_TIME_COST=2, PASSWORD_HASH_MEMORY_KIB=16384)
    user = make_user()
    policy = services.ThrottlePolicy.from_config(app.config)
    start = threading.Barrier(12)
    outcomes: list[str] = []

    def guess() -> None:
        with app.app_context(), get_db(app).write_sessions() as session:
            start.wait()
            try:
                services.authenticate(
                    session, email=user.email, password=WRONG, address=CENTRE, policy=policy
                )
                outcomes.append("signed in")
            except services.InvalidCredentials:
                outcomes.append("wrong")
            except services.SignInThrottled:
                outcomes.append("throttled")

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    limit = policy.max_per_account_address
    assert Counter(outcomes) == Counter({"wrong": limit, "throttled": 12 - limit})
    assert _failures(app) == limit


def test_a_wrong_current_password_counts_as_a_failed_sign_in(app: Flask, make_user, clock) -> None:
    """A stolen session cannot guess the password through the password-change form."""
    user = make_user()
    client = app.test_client()
    assert sign_in(client, user.email).status_code == 302
    new = "amber-meadow-compass-77"

    def change(current: str) -> Any:
        fields = {"current_password": current, "new_password": new, "confirm": new}
        return post_form(client, "/account", "/account/password", fields)

    for _ in range(app.config["SIGN_IN_MAX_FAILURES_PER_ACCOUNT_ADDRESS"]):
        assert change(WRONG).status_code == 422
    refused = change(STRONG_PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in refused.get_data(as_text=True)
    assert sign_in(app.test_client(), user.email).status_code == 429
    clock.advance(seconds=app.config["SIGN_IN_FAILURE_WINDOW_SECONDS"] + 1)
    assert change(STRONG_PASSWORD).status_code == 302
    assert sign_in(app.test_client(), user.email, new).status_code == 302
