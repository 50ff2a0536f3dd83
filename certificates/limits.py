"""One budget of code-and-name lookups per address, shared by the form, the single JSON
lookup and the batch (where each pair counts), so no door is wider than another."""

from __future__ import annotations

from flask import request

from core.extensions import limiter

BATCH_MAX = 100


def _pairs_in_request() -> int:
    body = request.get_json(silent=True) if request.is_json else None
    pairs = body.get("certificates") if isinstance(body, dict) else None
    return min(max(len(pairs), 1), BATCH_MAX) if isinstance(pairs, list) else 1


# Guessing a family name for a known code is what the budget stops; an employer checking
# a hundred hires still fits in a batch or two an hour.
LOOKUP_BUDGET = "300 per hour"
LOOKUP_SCOPE = "certificate-lookup"
lookup_budget = limiter.shared_limit(LOOKUP_BUDGET, scope=LOOKUP_SCOPE, cost=_pairs_in_request)
# The form's GET only shows it; its POST is the lookup.
form_lookup_budget = limiter.shared_limit(LOOKUP_BUDGET, scope=LOOKUP_SCOPE, methods=["POST"])
