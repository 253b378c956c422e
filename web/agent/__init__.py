"""The agent workspace, by area:

- ``inbox``: the inbox and queue of tasks, the list of dossiers;
- ``case_page``: the dossier page (``case_context``, one function per block of it);
- ``actions``: what an agent posts from it;
- ``common``: the workspace's roles, the dossier read, the links.

Thin views: they read through ``cases.selectors`` (and ``workflows.selectors``), write
through services and ``engine.transitions.transition_apply`` (whose hook closes the agent
task an action completes, as for the API: ``workflows.agent_tasks``), and render. Every
refusal of a service comes back as its French message on the page.

The names imported below are the views the routes (``web.agent_urls``) point to.
"""

from .actions import (
    case_message,
    case_note,
    case_opinion,
    case_share_exception,
    case_transition,
)
from .case_page import case_detail
from .inbox import agent_inbox, task_take

# The area's page sizes, read by ``inbox`` each time it builds a page.
PAGE_SIZE = 25  # dossiers per page of the list
TASKS_PAGE_SIZE = 15  # per task list; the rest on the next pages of that list

__all__ = [
    "PAGE_SIZE",
    "TASKS_PAGE_SIZE",
    "agent_inbox",
    "case_detail",
    "case_message",
    "case_note",
    "case_opinion",
    "case_share_exception",
    "case_transition",
    "task_take",
]
