"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, request

from core.errors import Problem

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


DOCUMENT_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        # Framing, referrer and script rules matter for documents; JSON needs none of them.
        for key, value in DOCUMENT_HEADERS.items():
            headers.setdefault(key, value)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith("/static/"):
        # Pages show personal data and exam state: never keep them in a shared cache.
        headers.setdefault("Cache-Control", "no-store")
    return response


def refuse_nul_bytes() -> None:
    """NUL characters have no place in text and PostgreSQL refuses them: a 400, not a 500."""
    encoded = [request.query_string.lower(), request.path.encode()]
    raw: list[bytes] = []
    if request.mimetype == "multipart/form-data":
        raw += [value.encode() for value in request.form.values()]
    elif request.mimetype == "application/x-www-form-urlencoded":
        encoded.append(request.get_data(cache=True).lower())
    else:
        raw.append(request.get_data(cache=True).lower())
    found = any(b"%00" in part or b"\x00" in part for part in encoded) or any(
        b"\x00" in part or b"\\u0000" in part for part in raw
    )
    if found:
        raise Problem(400, "NUL character", "The request contains a NUL character; remove it.")


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)
