"""The accreditation workflow: the step table (``steps``), who plays which part
(``parties``), the steps before a decision (``review``), decisions (``decisions``),
appeals (``appeals``), the service-level clock (``clock``), messages and emails
(``messages``), and the one path every step takes (``taking``)."""

from accreditation.models import STATE_LABELS
from accreditation.workflow.clock import (
    SLA_WORKING_DAYS,
    ClockState,
    Waiting,
    clocks,
    overdue,
    waiting,
    working_days_waiting,
)
from accreditation.workflow.messages import lead_emails, post_message, provider_emails, timeline
from accreditation.workflow.steps import STEPS, Step
from accreditation.workflow.taking import (
    CONFIRMED_STEPS,
    BulkOutcome,
    StepPreview,
    allowed_steps,
    apply_step,
    bulk_assign,
    preview_step,
    take_step,
)

__all__ = [
    "CONFIRMED_STEPS",
    "SLA_WORKING_DAYS",
    "STATE_LABELS",
    "STEPS",
    "BulkOutcome",
    "ClockState",
    "Step",
    "StepPreview",
    "Waiting",
    "allowed_steps",
    "apply_step",
    "bulk_assign",
    "clocks",
    "lead_emails",
    "overdue",
    "post_message",
    "preview_step",
    "provider_emails",
    "take_step",
    "timeline",
    "waiting",
    "working_days_waiting",
]
