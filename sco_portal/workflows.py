"""The one workflow engine: a transition table, and the move that locks, re-checks, applies and records.

A model with a workflow declares, beside its fields:

- `Status` and `Move` (`TextChoices`): its states and the moves between them;
- `TRANSITIONS`: `{Move.X: Step(sources, target, done=_("x-ed"))}`, the whole workflow at a glance;
- `CONFLICT_MESSAGE`: the 409 text, with `%(status)s` and `%(move)s`;
- a `status` field and a `transitions` relation to a `TransitionRecord` subclass;

and makes each move through `make_transition()`. Agreements and practices share it,
so "lock the row, re-check the status, return quietly if already done, save the
changed fields, write the audit row" is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from sco_portal.errors import ConflictError


@dataclass(frozen=True)
class Step:
    """One row of a transition table: the statuses a move starts from and the one it leads to.

    `done` is the past participle the 409 message uses ("cannot be approved").
    A `stepwise` move is made in steps by several parties (two countries approve,
    two cities confirm a renewal): its `apply` decides when the status changes.
    """

    sources: frozenset[str]
    target: str
    done: str | Promise
    stepwise: bool = False


def step(sources: Iterable[str], target: str, *, done: str | Promise, stepwise: bool = False) -> Step:
    return Step(frozenset(sources), target, done, stepwise)


class TransitionRecord(models.Model):
    """One move in an object's life: who made it, when, from which status to which, and why.

    Subclasses add the foreign key to their object (with `related_name="transitions"`)
    and redeclare `move`, `from_status` and `to_status` with their choices.
    """

    move = models.CharField(_("move"), max_length=20)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("by")
    )
    comment = models.TextField(_("comment"), blank=True)
    # What a move in steps did (which side approved), for the timeline to say so.
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    @property
    def changed_status(self) -> bool:
        """False for a step that left the status where it was (one of two approvals)."""
        return self.from_status != self.to_status


W = TypeVar("W", bound="Workflow[Any]")
R = TypeVar("R", bound=TransitionRecord)


class Workflow(models.Model, Generic[R]):
    """Abstract base of a model whose `status` moves only through its transition table, audited by `R` rows."""

    TRANSITIONS: ClassVar[Mapping[str, Step]]
    CONFLICT_MESSAGE: ClassVar[str | Promise]

    status: Any

    class Meta:
        abstract = True

    def allows(self, move: str) -> bool:
        """The current status allows `move` (whoever asks)."""
        return self.status in self.TRANSITIONS[move].sources

    def conflict(self, move: str) -> ConflictError:
        # The lazy strings translate into the active language when made str.
        return ConflictError(
            str(self.CONFLICT_MESSAGE)
            % {"status": str(self.get_status_display()).lower(), "move": str(self.TRANSITIONS[move].done)}  # type: ignore[attr-defined]
        )

    def make_transition(
        self: W,
        move: str,
        *,
        by: Any,
        comment: str = "",
        apply: Callable[[W], list[str]] | None = None,
        done: Callable[[W], bool] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> R | None:
        """Make `move` on the locked row: check it is allowed, apply it, save, audit.

        Returns None, changing nothing, when the move was already made (`done`,
        by default "the status is the move's target"): a repeated request.
        Raises ConflictError when the status does not allow the move. `details`
        is recorded on the audit row after `apply` ran, so `apply` may fill it in.
        """
        rule = self.TRANSITIONS[move]
        already = done or (lambda row: row.status == rule.target)
        with transaction.atomic():
            # The lock serialises racing moves (two approvals, an approval and a
            # withdrawal): the second one waits, then sees the first one's result.
            locked = type(self)._default_manager.select_for_update().get(pk=self.pk)
            if already(locked):
                self._take(locked)
                return None
            if locked.status not in rule.sources:
                raise locked.conflict(move)
            from_status = locked.status
            changed = apply(locked) if apply else []
            if not rule.stepwise:
                locked.status = rule.target
                changed.append("status")
            locked.save(update_fields=[*dict.fromkeys(changed), *self._always_saved()])
            record: R = locked.transitions.create(  # type: ignore[attr-defined]
                move=move,
                from_status=from_status,
                to_status=locked.status,
                actor=by,
                comment=comment,
                details=dict(details or {}),
            )
            self._take(locked)
            return record

    def _always_saved(self) -> list[str]:
        """`auto_now` fields, saved with every move."""
        return [field.name for field in self._meta.concrete_fields if getattr(field, "auto_now", False)]

    def _take(self, locked: models.Model) -> None:
        for field in self._meta.concrete_fields:
            setattr(self, field.attname, getattr(locked, field.attname))
