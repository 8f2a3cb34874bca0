"""The e-mails agreements raise: one for each step that waits on someone, or that someone should know of.

Required ones ask the reader to act; optional ones tell of a decision. Templates
are in templates/partnerships/email/<name>/; each links to the agreement.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from notifications.events import register


def _event(name: str, label: str | Promise, *, optional: bool) -> str:
    return register(name, label=label, optional=optional, templates=f"partnerships/email/{name}", subject="agreement")


PROPOSED = _event("agreement_proposed", _("A partnership is proposed to your city"), optional=False)
ACCEPTED = _event("agreement_accepted", _("A partnership proposal is accepted and awaits approval"), optional=False)
APPROVED = _event("agreement_approved", _("A partnership is approved and can be signed"), optional=False)
REJECTED = _event("agreement_rejected", _("A partnership is rejected by a coordinator"), optional=True)
DECLINED = _event("agreement_declined", _("A partnership proposal is declined"), optional=True)
WITHDRAWN = _event("agreement_withdrawn", _("A partnership proposal is withdrawn"), optional=True)
SIGNED = _event("agreement_signed", _("A partnership is signed"), optional=True)
TERMINATED = _event("agreement_terminated", _("A partnership is terminated"), optional=True)
DORMANT = _event("agreement_dormant", _("A partnership has had no activity for a year"), optional=True)
EXPIRING_90 = _event("agreement_expiring_90", _("A partnership expires in 90 days"), optional=True)
EXPIRING_30 = _event("agreement_expiring_30", _("A partnership expires in 30 days"), optional=False)
RENEWAL_PROPOSED = _event(
    "agreement_renewal_proposed", _("A partnership's renewal awaits your city's confirmation"), optional=False
)
RENEWED = _event("agreement_renewed", _("A partnership is renewed"), optional=True)
