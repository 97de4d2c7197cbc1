"""The university's rules, as plain functions: no request, no rendering. Every view calls here.

- status: which steps apply to a student and how each stands (holds block whatever is recorded)
- changes: clear, block, reopen; place and release holds — checked, audited, forms re-checked
- automatic: the system clears automatic steps whenever nothing is held
- forms: a form version exists exactly while every applicable step is cleared
- permissions: who acts for which office and sees which students
- window: when a student may use the system
- verification: the desk's verdict on a printed form, and the certificates' hand-over
- queue: an office's queue of students, filtered and counted in SQL
"""

from clearance.automatic import refresh_students
from clearance.changes import (
    Refused,
    block_step,
    clear_step,
    place_hold,
    release_hold,
    reopen_step,
    settle_automatic_steps,
)
from clearance.forms import completeness, current_form, recheck_forms
from clearance.permissions import acts_for_office, scope_students, sees_student, working_office
from clearance.queue import QueueFilters, QueuePage, office_queue, queue_counts
from clearance.status import (
    Shown,
    StepView,
    applicable_steps,
    checklist,
    counts_as_cleared,
    next_step,
    office_title,
    open_holds,
    self_service_ready,
    shown_state,
    step_applies,
    step_view,
)
from clearance.verification import (
    Check,
    Verdict,
    check_form,
    display_code,
    find_form,
    form_for_token,
    handover_of,
    record_handover,
    token_for,
)
from clearance.window import Window, current_cohorts, window_closes_on, window_state

__all__ = [
    "Check",
    "QueueFilters",
    "QueuePage",
    "Refused",
    "Shown",
    "StepView",
    "Verdict",
    "Window",
    "acts_for_office",
    "applicable_steps",
    "block_step",
    "check_form",
    "checklist",
    "clear_step",
    "completeness",
    "counts_as_cleared",
    "current_cohorts",
    "current_form",
    "display_code",
    "find_form",
    "form_for_token",
    "handover_of",
    "next_step",
    "office_queue",
    "office_title",
    "open_holds",
    "place_hold",
    "queue_counts",
    "recheck_forms",
    "record_handover",
    "refresh_students",
    "release_hold",
    "reopen_step",
    "scope_students",
    "sees_student",
    "self_service_ready",
    "settle_automatic_steps",
    "shown_state",
    "step_applies",
    "step_view",
    "token_for",
    "window_closes_on",
    "window_state",
    "working_office",
]
