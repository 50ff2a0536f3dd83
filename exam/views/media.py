"""The files a candidate's questions show, fetched through a route that checks the attempt."""

from __future__ import annotations

from werkzeug.wrappers import Response

from core.auth import current_actor, roles_required
from core.db import get_session
from exam.services.media_access import attempt_media
from exam.views._blueprint import bp
from item_bank.media_views import media_response


@bp.get("/exams/attempts/<id:attempt_id>/media/<sha256>")
@roles_required("candidate")
def attempt_media_file(attempt_id: int, sha256: str) -> Response:
    media = attempt_media(get_session(), current_actor().id, attempt_id, sha256[:64])
    return media_response(media)
