"""Sending a stored medium to a browser: its own content type, never sniffed, never kept in
a shared cache, and an SVG sandboxed so that no script in it could ever run. Byte ranges
are answered (206, or 416 for a range outside the file), as Safari and iOS ask for them
before they play audio."""

from __future__ import annotations

import io

from flask import send_file
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from item_bank.media_models import MediaFile
from item_bank.services.media import media_path

# No script, no plugin, no fetch, no form: the file is shown as an image and nothing more.
MEDIA_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


def media_response(media: MediaFile) -> Response:
    path = media_path(media.sha256)
    if not path.is_file():
        raise NotFound()
    # Read whole (files are a few MB at most): no file handle is left for the server to close.
    response = send_file(
        io.BytesIO(path.read_bytes()),
        mimetype=media.content_type,
        conditional=True,
        etag=media.sha256,
        max_age=None,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = MEDIA_POLICY
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Content-Disposition"] = "inline"
    return response
