"""Porteur pages, by area:

- ``intake``, ``plan``, ``documents`` (and ``steps``, their frame): filing a dossier step
  by step, the plan and the schemes asked for, the pieces;
- ``acknowledgement``: the desk's récépissé and each request's acknowledgement of
  receipt (PDF);
- ``my_cases``: the list of the organisation's dossiers;
- ``tracking``: the follow-up of one dossier; ``actions``: what the porteur posts from it
  (messages, transitions, payment claims);
- ``common``: the role check, the dossier read, the error summary.

Views are thin: they parse input (``web.porteur_forms``), call the services of ``cases``
and the engine's ``transition_apply``, and render. Every read goes through
``cases.selectors``: a dossier of another organisation is a 404, whatever the URL.

The names below are the views the routes (``web.porteur_urls``) point to.
"""

from .acknowledgement import acknowledgement, request_acknowledgement
from .actions import case_action, case_claim, case_message
from .autosave import intake_draft
from .documents import case_document
from .intake import intake_start, intake_step
from .my_cases import my_cases
from .tracking import case_porteur

__all__ = [
    "acknowledgement",
    "case_action",
    "case_claim",
    "case_document",
    "case_message",
    "case_porteur",
    "intake_draft",
    "intake_start",
    "intake_step",
    "my_cases",
    "request_acknowledgement",
]
