"""HTML pages of the exam room, one module per audience, on one blueprint ``exam``."""

from __future__ import annotations

from exam.psychometrics import views as psychometrics_views  # noqa: F401  (adds routes)
from exam.views import candidate, exam_page, media, proctor, seb, staff  # noqa: F401  (they add routes)
from exam.views._blueprint import bp

__all__ = ["bp"]
