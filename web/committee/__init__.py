"""LEADER programming committee pages, by area:

- ``sessions``: the list, planning a session, the session page, closing it;
- ``votes``: recording a vote (scoring grid);
- ``grid``: the secretary's grid of a session (presence, votes and scores, saved per row);
- ``declarations``: declaring a conflict of interest on an item, naming substitutes;
- ``agenda``: how a session is laid out (items, group shares, validity figures);
- ``minutes``: the minutes (PDF), also offered on the public page;
- ``common``: the refusal page, the session read, the committee's members.

Thin views: the rules (who plans, who votes for whom, quorum, the 49 % rule, outcomes)
live in ``cases.committee`` and the transition service; these modules parse the forms,
call them, and lay out what they return.

The names imported below are the views the routes (``web.committee_urls``) point to.
"""

from .declarations import conflict_post, substitutes
from .grid import grid_page, grid_presence, grid_vote
from .minutes import session_minutes
from .sessions import session_close, session_detail, session_list, session_new
from .votes import vote_post

__all__ = [
    "conflict_post",
    "grid_page",
    "grid_presence",
    "grid_vote",
    "substitutes",
    "session_close",
    "session_detail",
    "session_list",
    "session_minutes",
    "session_new",
    "vote_post",
]
