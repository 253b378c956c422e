"""The hand-written groups of states (``REQUEST_UNDECIDED``, ``REQUEST_GRANTED``,
``CASE_TERMINAL``) agree with the descriptors, for ``manage.py check``.

The groups are written as lists because django-fsm needs them when the model class is
built, before any descriptor exists. A state added to a machine but left out of them
would be silently « neither undecided nor granted » (the trial change of ADR 008 met
exactly that): here every funding-request state must be undecided, granted or final
without aid, and the dossier's final states must be the descriptors' ``terminal`` ones.
"""

from __future__ import annotations

from django.core import checks

from engine.transitions import registration_for

from .. import models as m


def group_errors(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    requests = registration_for(m.FundingRequest)
    undecided, granted = set(m.REQUEST_UNDECIDED), set(m.REQUEST_GRANTED)
    for code, state in requests.states.items():
        places = [
            name
            for name, inside in (
                ("REQUEST_UNDECIDED", code in undecided),
                ("REQUEST_GRANTED", code in granted),
                ("final without aid", state.terminal and code not in granted),
            )
            if inside
        ]
        if len(places) != 1:
            errors.append(
                checks.Error(
                    f"cases.FundingRequest : l'état « {code} » doit être dans un seul groupe "
                    f"(REQUEST_UNDECIDED, REQUEST_GRANTED, ou final sans aide) ; il est dans "
                    f"{', '.join(places) or 'aucun'}.",
                    id="cases.E001",
                )
            )
    terminal = {code for code, st in registration_for(m.Case).states.items() if st.terminal}
    if terminal != {str(s) for s in m.CASE_TERMINAL}:
        errors.append(
            checks.Error(
                "cases.Case : CASE_TERMINAL ne correspond pas aux états finals des "
                f"descripteurs ({', '.join(sorted(terminal))}).",
                id="cases.E002",
            )
        )
    return errors


checks.register(group_errors)
