"""The rules of items: authoring, versioning, the review workflow, enemies, search.

One module per topic: checking content against the bank (``checks``), creating and
editing items and their enemies (``authoring``), the review workflow (``workflow``) and
reading, searching and the review queue (``reading``).
"""

from item_bank.services.authoring import (
    apply_content,
    create_item,
    enemy_refs,
    new_version,
    set_enemies,
    stale_revision,
    update_item,
)
from item_bank.services.checks import (
    ItemInvalid,
    check_content,
    enemy_items,
    resolve_competencies,
)
from item_bank.services.reading import (
    ItemFilters,
    comments_for,
    get_item,
    head_versions_query,
    require_item,
    review_queue,
    search_items,
)
from item_bank.services.review_revision import (
    changed_fields,
    content_revision,
    require_reviewed_revision,
)
from item_bank.services.workflow import (
    IMPORT_STATUSES,
    STAFF_ROLES,
    STEPS,
    Step,
    allowed_steps,
    check_import_status,
    supersede_live,
    take_step,
)

__all__ = [
    "IMPORT_STATUSES",
    "STAFF_ROLES",
    "STEPS",
    "ItemFilters",
    "ItemInvalid",
    "Step",
    "allowed_steps",
    "apply_content",
    "changed_fields",
    "check_content",
    "check_import_status",
    "comments_for",
    "content_revision",
    "create_item",
    "enemy_items",
    "enemy_refs",
    "get_item",
    "head_versions_query",
    "new_version",
    "require_item",
    "require_reviewed_revision",
    "resolve_competencies",
    "review_queue",
    "search_items",
    "set_enemies",
    "stale_revision",
    "supersede_live",
    "take_step",
    "update_item",
]
