"""JSON API for item media: upload a file (multipart), then name it in an item's ``media``."""

from __future__ import annotations

from typing import Any

from flask import request

from core.api import ResponseModel, file_body, model_response, problem_responses, respond
from core.auth import current_actor, roles_required
from core.db import get_session
from core.errors import Problem
from item_bank.media_models import MediaKind
from item_bank.services import media


class StoredMedia(ResponseModel):
    """A stored file: name it by ``sha256`` in an item's ``media`` with its alt text (an
    image) or its transcript (audio)."""

    sha256: str
    kind: MediaKind
    content_type: str
    size: int
    width: int | None
    height: int | None


def register_media_api(api: Any) -> None:
    """The upload route, on the item bank's API blueprint."""

    @api.post("/media")
    @roles_required("item_writer")
    def upload_media() -> Any:
        upload = request.files.get("file")
        if upload is None:
            raise Problem(422, "No file", "Send the file as multipart/form-data field 'file'.")
        stored = media.upload_media(
            get_session(), current_actor(), upload.read(), upload.filename or ""
        )
        return respond(StoredMedia.of(stored), 201)


OPENAPI_MODELS = (StoredMedia,)
OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/media": {
        "post": {
            "summary": "Upload an image (PNG, JPEG, WebP, SVG; 5 MB) or audio (MP3, Ogg, "
            "WAV, M4A; 8 MB) for items to show",
            "operationId": "uploadMedia",
            "security": [{"bearer": []}],
            "requestBody": file_body(
                "The file; its name's extension says what it is, and its content must agree."
            ),
            "responses": {
                "201": model_response("The stored file", StoredMedia),
                **problem_responses(400, 401, 403, 413, 415, 422),
            },
        }
    }
}
