"""The reference: a bare Flask JSON route, served exactly like the project's app.

``gunicorn reference_app:app`` (from ``bench/``); the ratio in every table is
measured against this route in the same run.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/ping")
def ping() -> dict[str, bool]:
    return {"ok": True}
