"""The university's rules (docs/RULES.md), as plain functions: no request, no rendering. Every view calls here.

- status: which steps apply and how each shows, each rule with its SQL twin; the checklist views
- situation: what the top of a student's checklist says (next step, void notice, hand-over)
- amounts: the one rule for an amount owed
- changes: clear, block, reopen; place and release holds — checked and audited, set-based writers
- settle: the unit of work — automatic steps and form versions settled before every commit
- automatic: the system clears automatic steps whenever nothing is held
- forms: a form version exists exactly while every applicable step is cleared
- permissions: who acts for which office and sees which students
- window: when a student may use the system
- verification: the desk's verdict on a printed form, and the certificates' hand-over
- queue: an office's queue of students, filtered and counted in SQL
- statistics: progress per cohort, school, step and day, for the administrators
- bulk: clearing many students and placing holds from a list
- stakes: what an office's change would void (a form) or follow (a hand-over), confirmed before it happens
- setup: cohorts, offices and steps
- history: the audit's subjects in words (a step's office and title, a hold's reason), for every history table
- refused: the exception a refused change raises, and a refused line of a list
"""

from clearance import bulk, setup, statistics
from clearance.amounts import check_amount, parse_amount
from clearance.automatic import clear_due_automatic_steps, refresh_students
from clearance.changes import (
    NewHold,
    block_step,
    clear_step,
    place_hold,
    place_holds,
    record_states,
    release_hold,
    reopen_step,
)
from clearance.forms import current_form, last_voided_printout, recheck_forms
from clearance.history import in_words, subjects_in_words
from clearance.permissions import acts_for_office, scope_students, sees_student, working_office
from clearance.queue import QueueFilters, QueuePage, office_queue, queue_counts
from clearance.refused import Refused, RowError
from clearance.settle import touch, touch_cohorts
from clearance.situation import Situation, student_situation
from clearance.stakes import Stake, Unconfirmed, form_at_stake, stakes_of
from clearance.status import (
    Shown,
    StepView,
    active_steps,
    applies_clause,
    checklist,
    checklists,
    complete_clause,
    completeness,
    counts_as_cleared,
    held_clause,
    is_complete,
    missing_prerequisites,
    missing_prerequisites_clause,
    next_step,
    office_title,
    office_twins,
    ready_clause,
    self_service_ready,
    shown_clause,
    shown_state,
    step_applies,
    step_pairs,
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
from clearance.window import (
    Window,
    certificate_place,
    current_cohorts,
    kept_out,
    window_closes_on,
    window_opens_on,
    window_state,
)

__all__ = [
    "Check",
    "NewHold",
    "QueueFilters",
    "QueuePage",
    "Refused",
    "RowError",
    "Shown",
    "Situation",
    "Stake",
    "StepView",
    "Unconfirmed",
    "Verdict",
    "Window",
    "active_steps",
    "acts_for_office",
    "applies_clause",
    "block_step",
    "bulk",
    "certificate_place",
    "check_amount",
    "check_form",
    "checklist",
    "checklists",
    "clear_due_automatic_steps",
    "clear_step",
    "complete_clause",
    "completeness",
    "counts_as_cleared",
    "current_cohorts",
    "current_form",
    "display_code",
    "find_form",
    "form_at_stake",
    "form_for_token",
    "handover_of",
    "held_clause",
    "in_words",
    "is_complete",
    "kept_out",
    "last_voided_printout",
    "missing_prerequisites",
    "missing_prerequisites_clause",
    "next_step",
    "office_queue",
    "office_title",
    "office_twins",
    "parse_amount",
    "place_hold",
    "place_holds",
    "queue_counts",
    "ready_clause",
    "recheck_forms",
    "record_handover",
    "record_states",
    "refresh_students",
    "release_hold",
    "reopen_step",
    "scope_students",
    "sees_student",
    "self_service_ready",
    "setup",
    "shown_clause",
    "shown_state",
    "stakes_of",
    "statistics",
    "step_applies",
    "step_pairs",
    "step_view",
    "student_situation",
    "subjects_in_words",
    "token_for",
    "touch",
    "touch_cohorts",
    "window_closes_on",
    "window_opens_on",
    "window_state",
    "working_office",
]
