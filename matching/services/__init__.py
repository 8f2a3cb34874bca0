"""Computing, storing, dismissing and mailing partner suggestions.

The rules: a city's suggestions are replaced all together in one transaction, and
the same inputs give the same rows; a change to a city's profile, agreements or
practices recomputes that city after the commit, once for a burst of changes, and then
the other cities whose lists the change can alter; a full recompute is a chord of block
tasks whose callback swaps every result in at once, but for the cities recomputed on
their own after their block read the inputs.

results.py ranks a block and writes rows; one_city.py recomputes one city; runs.py is
the full recompute; officers.py is what officers do with suggestions, and the weekly
e-mail. The rest of the portal calls the names below; constants and helpers stay in their
modules (a test patches them there, where they are looked up).
"""

from matching.services.officers import can_act_for, dismiss_candidate, send_weekly_suggestions, undo_dismissal
from matching.services.one_city import (
    enqueue_lists_it_reaches,
    recompute_changed_cities,
    recompute_city,
    recompute_lists_it_reaches,
    schedule_city_recompute,
    suggestions_in_own_country,
    sweep_pending_recomputes,
    take_claim,
)
from matching.services.results import lock_suggestions, rank_rows, write_suggestions
from matching.services.runs import (
    block_ranges,
    close_stale_runs,
    compute_block,
    create_run,
    fail_run,
    request_full_recompute,
    run_under_way,
    start_full_recompute,
    stop_run,
    swap_suggestions,
    vacuum_suggestions,
)

__all__ = [
    "block_ranges",
    "can_act_for",
    "close_stale_runs",
    "compute_block",
    "create_run",
    "dismiss_candidate",
    "enqueue_lists_it_reaches",
    "fail_run",
    "lock_suggestions",
    "rank_rows",
    "recompute_changed_cities",
    "recompute_city",
    "recompute_lists_it_reaches",
    "request_full_recompute",
    "run_under_way",
    "schedule_city_recompute",
    "send_weekly_suggestions",
    "start_full_recompute",
    "stop_run",
    "suggestions_in_own_country",
    "swap_suggestions",
    "sweep_pending_recomputes",
    "take_claim",
    "undo_dismissal",
    "vacuum_suggestions",
    "write_suggestions",
]
