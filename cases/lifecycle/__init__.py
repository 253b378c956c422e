"""The dossier's state machines, one module per machine: each declares, once, its states
(wording for the porteur, badge) and its transitions (roles, labels, input fields, guard,
effect, notice), and registers them with the engine. Pages, API and notifications derive
their labels, forms and notices from these descriptors (``engine.transitions``)."""

from . import (  # noqa: F401
    case,
    committee_session,
    correction,
    extension,
    funding_request,
    groups,
    payment_claim,
)
from .case import case_follow_up
from .payment_claim import cofinancers_caught_up

__all__ = ["case_follow_up", "cofinancers_caught_up"]
