"""Which moves tell the rest of the portal that the two cities changed (sco_portal.changes): those that change where
the agreement stands, open or finished, on the public record or not. Partner suggestions read nothing else of an
agreement; each unreported move saves a recompute of both cities and the lists they are in (seconds per move in
the embedded mode, found in a browser walk-through)."""

from __future__ import annotations

import pytest

from accounts.models import User
from partnerships import services
from partnerships.models import Agreement, AgreementTransition
from sco_portal import changes

# (move, from status) → None: not reported; "between them": reported as concerning the two cities alone;
# "public": reported as a change others see (the agreement enters or leaves the public record).
EXPECTED = {
    ("propose", "draft"): None,
    ("withdraw", "draft"): "between them",
    ("withdraw", "proposed"): "between them",
    ("withdraw", "under_review"): "between them",
    ("accept", "proposed"): None,
    ("decline", "proposed"): "between them",
    ("approve", "under_review"): None,
    ("reject", "under_review"): "between them",
    ("sign", "approved"): "public",
    ("suspend", "active"): "public",
    ("resume", "suspended"): "public",
    ("terminate", "active"): "between them",
    ("terminate", "suspended"): "public",
    ("renew", "active"): None,
    ("expire", "active"): "between them",
    ("expire", "suspended"): "public",
}


@pytest.fixture
def reported(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[int], bool]]:
    found: list[tuple[list[int], bool]] = []
    monkeypatch.setattr(
        changes, "_listeners", [lambda ids, *, between_them_only: found.append((ids, between_them_only))]
    )
    return found


def test_every_move_is_reported_as_where_it_leaves_the_agreement_says(reported: list[tuple[list[int], bool]]) -> None:
    moves = {(move, source) for move, step in Agreement.TRANSITIONS.items() for source in step.sources}
    assert moves == set(EXPECTED)  # a new move needs its row
    agreement = Agreement(initiator_id=1, partner_id=2)
    for (move, source), expected in EXPECTED.items():
        reported.clear()
        target = Agreement.TRANSITIONS[move].target
        services._report_change(agreement, AgreementTransition(move=move, from_status=source, to_status=target))
        kind = None if not reported else "between them" if reported[0][1] else "public"
        assert kind == expected, (move, source)
        assert not reported or reported[0][0] == [1, 2]


def test_a_draft_is_reported_as_concerning_its_two_cities_and_its_proposal_and_acceptance_not_at_all(
    officer: User, partner_officer: User, reported: list[tuple[list[int], bool]]
) -> None:
    assert officer.city is not None and partner_officer.city is not None
    draft = services.create_draft(by=officer, initiator=officer.city, partner=partner_officer.city, title="Transit")
    assert reported == [([officer.city_id, partner_officer.city_id], True)]
    services.make_move(agreement=draft, move=Agreement.Move.PROPOSE, by=officer)
    services.make_move(agreement=draft, move=Agreement.Move.ACCEPT, by=partner_officer)
    assert len(reported) == 1
