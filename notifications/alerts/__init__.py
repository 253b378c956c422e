"""Payment delays and treasury risk: projections, receivables and the alerts they raise.

``alerts_evaluate`` is one idempotent pass (the sweep and Celery beat run it through
``notifications.wiring``): it streams the unpaid claims and the live grants once, opens or
updates at most one live alert per (subject, kind), raises a severity that got worse
(an acknowledged alert whose severity rises is open again) and resolves the alerts whose
cause is gone. Messages are in French and say what is late, since when, how much, the
projected payment date and what the porteur can do.

One module per kind of alert (``payment_overdue``, ``feader_blocked``, ``late_forecast``,
``installment_ceiling``, ``treasury_risk``, ``programme_end``, ``works_deadline_missed``),
each turning what it reads into a ``Finding``;
``receivables`` reads the claims and grants, ``book`` opens, updates and resolves the
alerts, ``evaluate`` is the pass, ``acknowledge`` the porteur's or agent's « vu ».
"""

from .acknowledge import alert_acknowledge
from .evaluate import alerts_evaluate
from .receivables import receivables

__all__ = ["alert_acknowledge", "alerts_evaluate", "receivables"]
