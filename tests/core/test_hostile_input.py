"""Hostile or odd input gets a 4xx, never a 500."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from core.web import MAX_ID, digits_up_to
from tests.conftest import sign_in


def test_deeply_nested_json_is_400(client) -> None:
    response = client.post("/api/v1/tokens", data=b"[" * 200_000, content_type="application/json")
    assert response.status_code == 400


def test_nul_characters_are_400_everywhere(client) -> None:
    assert (
        client.post(
            "/api/v1/tokens", json={"email": "a\u0000@example.org", "password": "x"}
        ).status_code
        == 400
    )
    assert client.get("/framework?code=a%00b").status_code == 400
    assert client.post("/sign-in", data={"email": "a\x00b"}).status_code == 400


def test_ids_too_large_for_the_database_are_404(app: Flask, make_user) -> None:
    admin = make_user("admin")
    client = app.test_client()
    sign_in(client, admin.email)
    assert client.get("/admin/users/99999999999999999999").status_code == 404
    assert client.get("/admin/users/0").status_code == 404


def test_ids_out_of_range_are_404_even_where_another_method_shares_the_path(client) -> None:
    """``PUT /items/{id}`` sits beside ``GET /items/{id}``: an id the database cannot
    hold is still "not found", not "method not allowed"."""
    for path in ("/api/v1/items", "/api/v1/applications", "/admin/users"):
        for bad in ("0", str(MAX_ID + 1), "9" * 20):
            response = client.put(f"{path}/{bad}", json={})
            assert response.status_code == 404, (path, bad, response.status_code)
    assert client.put(f"/api/v1/items/{MAX_ID}", json={}).status_code == 401


@pytest.mark.parametrize("limit", [1, 9, 10, 19, 20, 100, 101, 250, 1000, MAX_ID])
def test_the_id_pattern_matches_exactly_one_to_the_limit(limit: int) -> None:
    pattern = re.compile(digits_up_to(limit))
    numbers = {*range(min(limit + 40, 2500)), limit - 1, limit, limit + 1, limit * 10, 10**12}
    assert {n for n in numbers if pattern.fullmatch(str(n))} == {
        n for n in numbers if 1 <= n <= limit
    }


def test_control_characters_in_next_are_ignored(app: Flask, make_user) -> None:
    user = make_user()
    client = app.test_client()
    sign_in(client, user.email)
    response = client.get("/sign-in?next=/x%0d%0aSet-Cookie:%20a=b")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_unicode_emails_sign_in_in_any_case(app: Flask, make_user) -> None:
    make_user(email="Émile.Zola@example.org")
    assert sign_in(app.test_client(), "émile.zola@example.org").status_code == 302
    assert sign_in(app.test_client(), "ÉMILE.ZOLA@EXAMPLE.ORG").status_code == 302
