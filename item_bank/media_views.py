"""Sending a stored medium to a browser: its own content type, never sniffed, never kept in
a shared cache, and an SVG sandboxed so that no script in it could ever run."""

from __future__ import annotations

from werkzeug.wrappers import Response

from item_bank.media_models import MediaFile
from item_bank.services.media import read_media

# No script, no plugin, no fetch, no form: the file is shown as an image and nothing more.
MEDIA_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


def media_response(media: MediaFile) -> Response:
    response = Response(read_media(media.sha256), mimetype=media.content_type)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = MEDIA_POLICY
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Content-Disposition"] = "inline"
    return response
