"""gunicorn reads this file when started from the project folder (``gunicorn "wsgi:create_app()"``).

It warns at start when more than one worker would count rate limits in its own memory.
A deployment with its own config file can import the hook the same way.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from core.limits import warn_if_limits_unshared as on_starting

__all__ = ["on_starting"]
