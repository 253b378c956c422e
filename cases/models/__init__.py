"""Dossiers, organisations, financing plans, funding requests, payments, documents, committee.

One module per area; this package re-exports every public name, so ``from cases.models
import Case`` works as before and Django finds every model of the ``cases`` app.

State fields are protected: only ``engine.transitions.transition_apply`` changes them.
Transition methods are empty on purpose: guards and effects live in ``cases.lifecycle``
and run inside the engine's transaction.
"""

from .base import MONEY_MAX, ZERO, money_bounds, money_field
from .case import CASE_EDITABLE, CASE_LIVE, CASE_TERMINAL, PLAN_FREE_STATES, Case, CaseState
from .committee import (
    CommitteeDecision,
    CommitteeSession,
    CommitteeSubstitute,
    InterestDeclaration,
    SessionKind,
    SessionState,
    Vote,
)
from .corrections import CorrectionRequest, CorrectionState, CorrectionTarget
from .documents import Document, Message, MessageAttachment, Opinion, document_path
from .ds import DsDemarche, DsImport, DsPush
from .experts import ExpertInvitation
from .extensions import Extension, ExtensionState
from .funding import LIVE_GRANTS, REQUEST_GRANTED, REQUEST_UNDECIDED, FundingRequest, RequestState
from .organisations import TERRITORIAL_ROLES, Organisation, User
from .payments import CLAIM_UNPAID, ClaimState, Payment, PaymentClaim
from .plan import ExpenseLine, ResourceLine
from .programming import (
    ConferenceItem,
    ConferencePosition,
    ConferenceSession,
    ItemOutcome,
    PositionStance,
    Scenario,
    ScenarioChoice,
    ScenarioItem,
)
from .recovery import RecoveryOrder, RecoveryState
from .themes import Theme
from .treasury import PlannedInvoice

__all__ = [
    "CASE_EDITABLE",
    "CASE_LIVE",
    "CASE_TERMINAL",
    "CLAIM_UNPAID",
    "MONEY_MAX",
    "PLAN_FREE_STATES",
    "LIVE_GRANTS",
    "REQUEST_GRANTED",
    "REQUEST_UNDECIDED",
    "TERRITORIAL_ROLES",
    "ZERO",
    "Case",
    "DsDemarche",
    "DsImport",
    "DsPush",
    "CaseState",
    "ClaimState",
    "ConferenceItem",
    "ConferencePosition",
    "ConferenceSession",
    "CommitteeDecision",
    "CommitteeSession",
    "CommitteeSubstitute",
    "CorrectionRequest",
    "CorrectionState",
    "CorrectionTarget",
    "Document",
    "ExpertInvitation",
    "ExpenseLine",
    "Extension",
    "ExtensionState",
    "FundingRequest",
    "ItemOutcome",
    "PositionStance",
    "Scenario",
    "ScenarioChoice",
    "ScenarioItem",
    "InterestDeclaration",
    "PlannedInvoice",
    "Message",
    "MessageAttachment",
    "Opinion",
    "Organisation",
    "Payment",
    "PaymentClaim",
    "RecoveryOrder",
    "RecoveryState",
    "RequestState",
    "ResourceLine",
    "SessionKind",
    "SessionState",
    "Theme",
    "User",
    "Vote",
    "document_path",
    "money_bounds",
    "money_field",
]
