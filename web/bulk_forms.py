"""Input of the bulk page (issue 12): the selection made in a list (ticked rows, or every
result of the list's filter, re-read here), the actions the actor's role may apply to it,
the common fields of a transition and the grant amounts pasted or uploaded from a
spreadsheet (two columns: reference or number ; amount).

Nothing here changes data: the page hands the items to ``cases.services.bulk``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import QueryDict
from django_fsm import can_proceed

from cases import selectors
from cases.models import Case, FundingRequest, PaymentClaim
from cases.services.bulk import MAX_ITEMS
from engine import inputs
from engine.errors import DomainError
from engine.transitions import ADMIN, SYSTEM, registration_for, role_of

from .agent.common import MESSAGE_WRITERS, role
from .agent_forms import COMMENT, BoundField, case_filter
from .funders import CLAIMS_TO_HANDLE, awaiting_requests, funder_scope, to_commit_requests

DOSSIERS, REQUESTS, CLAIMS = "dossiers", "demandes", "paiements"
MESSAGE = "message"
AMOUNT = "amount_granted"
#: The field of each item read from the amounts column: a grant's amount, a payment's.
PAID = "amount"
#: An uploaded spreadsheet: at most this many bytes, and ``MAX_ITEMS`` lines.
MAX_UPLOAD = 2 * 1024 * 1024
MAX_PASTE = 200_000  # characters of the pasted column
FUNDER_GROUPS = {"attente": awaiting_requests, "engager": to_commit_requests}


def _error(message: str, name: str = "selection") -> DomainError:
    return DomainError(message, errors={name: [message]})


@dataclass
class Selection:
    """What the user selected: dossiers (the agents' list), requests or payment claims
    (the funders' lists)."""

    source: str
    ids: list[int]
    cases: list[Case] = field(default_factory=list)
    requests: list[FundingRequest] = field(default_factory=list)
    claims: list[PaymentClaim] = field(default_factory=list)

    @property
    def model(self):
        """The model whose transitions apply to the selection."""
        return PaymentClaim if self.source == CLAIMS else FundingRequest

    @property
    def targets(self) -> list:
        """The rows a transition is applied to: the claims, else the requests."""
        return self.claims if self.source == CLAIMS else self.requests

    @property
    def amount_field(self) -> str:
        return PAID if self.source == CLAIMS else AMOUNT

    @property
    def case_ids(self) -> list[int]:
        if self.source == DOSSIERS:
            return [c.pk for c in self.cases]
        return list(dict.fromkeys(case_of(t).pk for t in self.targets))


def case_of(target):
    """The dossier of a request or of a claim."""
    return target.funding_request.case if isinstance(target, PaymentClaim) else target.case


def read_selection(user, post) -> Selection:
    """The selection of a post (``_read_selection``), refused in French when none of its
    lines is one the user may see."""
    selection = _read_selection(user, post)
    if not selection.ids:
        raise _error(
            "Aucune ligne sélectionnée : les lignes envoyées ne sont pas dans vos listes. "
            "Revenez à la liste et cochez des lignes."
        )
    return selection


def _read_selection(user, post) -> Selection:
    """The selection of a post: ``source``, then either ``tout_le_filtre`` with the list's
    filter (``filtre``, its query string) or the ticked ``ids`` (or ``ids_csv``, carried
    from one step to the next). Bounded by ``MAX_ITEMS``; a French ``DomainError``
    otherwise."""
    source = post.get("source", "")
    if source not in (DOSSIERS, REQUESTS, CLAIMS):
        raise _error("Sélection inconnue : revenez à la liste et cochez des lignes.")
    if post.get("tout_le_filtre"):
        ids = _filter_ids(user, source, post.get("filtre", "")[:2000])
    else:
        ids = _posted_ids(post)
    if not ids:
        raise _error("Aucune ligne sélectionnée : cochez au moins une ligne de la liste.")
    if len(ids) > MAX_ITEMS:
        raise _error(
            f"La sélection compte {len(ids)} lignes : {MAX_ITEMS} au plus par traitement. "
            "Affinez le filtre de la liste."
        )
    if source == DOSSIERS:
        by_pk = {c.pk: c for c in selectors.case_list(user=user).filter(pk__in=ids)}
        cases = [by_pk[pk] for pk in ids if pk in by_pk]
        requests = list(
            FundingRequest.objects.filter(case__in=[c.pk for c in cases])
            .select_related("case", "scheme")
            .order_by("case_id", "pk")
        )
        return Selection(source, [c.pk for c in cases], cases=cases, requests=requests)
    if source == CLAIMS:
        claims = {
            c.pk: c
            for c in selectors.claim_list(user=user)
            .select_related("funding_request__case", "funding_request__scheme__funder")
            .filter(pk__in=ids)
        }
        chosen = [claims[pk] for pk in ids if pk in claims]
        return Selection(source, [c.pk for c in chosen], claims=chosen)
    by_pk = {
        fr.pk: fr
        for fr in selectors.funding_request_list(user=user)
        .select_related("scheme__funder")
        .filter(pk__in=ids)
    }
    return Selection(
        source, [pk for pk in ids if pk in by_pk], requests=[by_pk[pk] for pk in ids if pk in by_pk]
    )


def _posted_ids(post) -> list[int]:
    raw = post.getlist("ids") + post.get("ids_csv", "").split(",")
    ids = []
    for value in raw[: MAX_ITEMS + 1]:
        value = value.strip()
        if value.isascii() and value.isdigit() and len(value) < 12:
            ids.append(int(value))
    return list(dict.fromkeys(ids))


def _filter_ids(user, source: str, query: str) -> list[int]:
    """Every result of the list's filter, read again server-side (one more than the bound,
    to tell the user the selection is too large)."""
    data = QueryDict(query)
    if source == DOSSIERS:
        cases = selectors.case_list(user=user)
        filters = case_filter(data, cases=cases)
        if filters.is_bound and not filters.is_valid():
            raise _error("Le filtre de la liste n'est pas valide : corrigez-le puis recommencez.")
        qs = filters.qs if filters.is_bound else cases
        return list(qs.order_by("-created_at", "-id").values_list("pk", flat=True)[: MAX_ITEMS + 1])
    if source == CLAIMS:
        if data.get("groupe", "") != CLAIMS:
            raise _error("Liste inconnue : revenez à la conférence des financeurs.")
        _requests, _funders, chosen = funder_scope(user, data.get("financeur", ""))
        claims = selectors.claim_list(user=user).filter(state__in=CLAIMS_TO_HANDLE)
        if chosen is not None:
            claims = claims.filter(funding_request__scheme__funder=chosen)
        return list(claims.order_by("filed_on", "pk").values_list("pk", flat=True)[: MAX_ITEMS + 1])
    group = FUNDER_GROUPS.get(data.get("groupe", ""))
    if group is None:
        raise _error("Liste inconnue : revenez à la conférence des financeurs.")
    requests, _funders, _chosen = funder_scope(user, data.get("financeur", ""))
    return list(group(requests).values_list("pk", flat=True)[: MAX_ITEMS + 1])


# ---------------------------------------------------------------- actions


@dataclass
class Action:
    name: str
    label: str
    count: int  # the requests (or dossiers, for a message) it would be applied to
    danger: bool = False


def offered_actions(user, selection: Selection) -> list[Action]:
    """The transitions of a funding request (of a payment claim, for selected claims) the
    actor's role may apply, with the number of selected rows whose state allows each
    (those with none are not offered), and the message to the porteurs for whoever writes
    to them."""
    actor_role = role_of(user)
    out = []
    for spec in registration_for(selection.model).specs.values():
        if spec.roles == frozenset({SYSTEM}):
            continue
        if actor_role != ADMIN and actor_role not in spec.roles:
            continue
        count = sum(1 for t in selection.targets if can_proceed(getattr(t, spec.name)))
        if count:
            out.append(Action(spec.name, spec.label, count, spec.danger))
    if role(user) in MESSAGE_WRITERS and selection.case_ids:
        out.append(Action(MESSAGE, "Envoyer un message au porteur", len(selection.case_ids)))
    return out


def items_for(selection: Selection, name: str) -> list:
    """The rows a transition is applied to: every selected request or claim; for selected
    dossiers, those of their requests whose state allows it."""
    if selection.source in (REQUESTS, CLAIMS):
        return list(selection.targets)  # each one ticked: a refusal is reported
    return [fr for fr in selection.requests if can_proceed(getattr(fr, name))]


def common_fields(name: str, values: dict, errors: dict, model=FundingRequest) -> list[BoundField]:
    """The fields of transition ``name`` typed once for every item (its amount comes from
    the spreadsheet column), and the comment."""
    spec = registration_for(model).specs[name]
    out = []
    for f in (*spec.fields, COMMENT):
        if f.name == per_item_field(model):
            continue
        bf = BoundField(spec=f, id=f"bulk-{f.name}", value=values.get(f.name, ""))
        bf.errors = [str(e) for e in errors.get(f.name, [])]
        out.append(bf)
    return out


def per_item_field(model) -> str:
    """The field each item reads from the amounts column."""
    return PAID if model is PaymentClaim else AMOUNT


def read_common(name: str, values: dict, model=FundingRequest) -> dict:
    """The typed values of the common fields (« 15/03/2026 »), required ones checked once
    here rather than refused on every item; a ``DomainError`` naming each bad field."""
    spec = registration_for(model).specs[name]
    data, errors, first = {}, {}, ""
    for f in spec.fields:
        if f.name == per_item_field(model):
            continue
        raw = values.get(f.name, "")
        if not raw and f.comment_stands_in and values.get("comment"):
            continue
        try:
            typed = f.read(raw, french=True)
        except DomainError as exc:
            errors.update(exc.errors or {f.name: [exc.message]})
            first = first or exc.message
            continue
        if typed is not None and raw:
            data[f.name] = typed
    if errors:
        raise DomainError(first, errors=errors)
    return data


# ---------------------------------------------------------------- the amounts column


@dataclass
class AmountLine:
    number: int  # line of the column, from 1
    key: str
    raw: str


def column_from_upload(upload) -> str:
    """The two first columns of an uploaded CSV or XLSX, as the pasted text (tab between
    them) that the page shows and carries; a French ``DomainError`` otherwise."""
    if upload.size > MAX_UPLOAD:
        raise _error(
            f"Fichier trop volumineux ({upload.size // 1024} Ko) : 2 Mo au plus.", "fichier"
        )
    content = upload.read(MAX_UPLOAD + 1)
    name = (upload.name or "").lower()
    if name.endswith(".xlsx") or content[:2] == b"PK":
        rows = _xlsx_rows(content)
    elif name.endswith((".csv", ".txt")):
        rows = _csv_rows(content)
    else:
        raise _error("Format non reconnu : déposez un fichier CSV ou XLSX.", "fichier")
    return "\n".join(f"{_cell(a)}\t{_cell(b)}" for a, b in rows)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        value = Decimal(repr(value))
    return str(value).replace("\t", " ").replace("\n", " ").strip()


def _xlsx_rows(content: bytes) -> list[tuple]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(max_col=2, max_row=MAX_ITEMS + 2, values_only=True):
            rows.append((*row, None, None)[:2])
        book.close()
    except Exception:  # noqa: BLE001 — any unreadable workbook is one French message
        raise _error("Ce fichier XLSX est illisible : enregistrez-le de nouveau.", "fichier")
    return rows


def _csv_rows(content: bytes) -> list[tuple]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    lines = text.splitlines()[: MAX_ITEMS + 2]
    first = lines[0] if lines else ""
    delimiter = "\t" if "\t" in first else ";" if ";" in first else ","
    return [(*row, "", "")[:2] for row in csv.reader(lines, delimiter=delimiter)]


def read_column(text: str) -> list[AmountLine]:
    """The lines of the pasted column: a reference or number, then an amount, separated by
    a tab (a spreadsheet's copy), a semicolon or spaces. A first line without any digit in
    its amount (a header) is skipped; empty lines too."""
    if len(text) > MAX_PASTE:
        raise _error(f"Colonne trop longue : {MAX_PASTE} caractères au plus.", "montants")
    out = []
    for number, line in enumerate(text.splitlines()[: MAX_ITEMS + 2], 1):
        if not line.strip():
            continue
        if "\t" in line:
            key, _, raw = line.partition("\t")
        elif ";" in line:
            key, _, raw = line.partition(";")
        else:
            key, _, raw = line.strip().partition(" ")
        key, raw = key.strip(), raw.strip().split("\t")[0].strip()
        if not out and number == 1 and not any(ch.isdigit() for ch in raw):
            continue
        out.append(AmountLine(number, key, raw))
    if len(out) > MAX_ITEMS:
        raise _error(f"Trop de lignes : {MAX_ITEMS} au plus.", "montants")
    return out


def amounts_by_request(lines: list[AmountLine], requests: list, *, paid: bool = False) -> dict:
    """``{request (or claim) pk: Decimal or the French reason it is unreadable}`` for the
    lines of the column. A line must name a selected request or claim, by its number or
    its dossier's reference (when that dossier has one selected row); a ``DomainError``
    listing the lines that do not, so the user corrects the column."""
    by_pk = {str(fr.pk): fr for fr in requests}
    by_ref: dict[str, list] = {}
    for fr in requests:
        by_ref.setdefault((case_of(fr).reference or "").casefold(), []).append(fr)
    found, problems = {}, []
    for line in lines:
        match = by_pk.get(line.key) or by_ref.get(line.key.casefold())
        if isinstance(match, list):
            if len(match) > 1:
                problems.append(
                    f"ligne {line.number} : le dossier « {line.key} » a plusieurs demandes "
                    "sélectionnées, indiquez le numéro de la demande"
                )
                continue
            match = match[0]
        if match is None:
            problems.append(
                f"ligne {line.number} : « {line.key[:40]} » n'est pas dans la sélection"
            )
        elif match.pk in found:
            problems.append(f"ligne {line.number} : « {line.key[:40]} » figure deux fois")
        else:
            found[match.pk] = _amount(line, paid)
    if problems:
        shown = "; ".join(problems[:5]) + (" ; …" if len(problems) > 5 else "")
        raise _error(f"Colonne des montants à corriger — {shown}.", "montants")
    return found


def _amount(line: AmountLine, paid: bool = False) -> Decimal | str:
    label = "montant payé" if paid else "montant accordé"
    try:
        return inputs.parse_money(line.raw, field=AMOUNT, label=label, french=True)
    except DomainError as exc:
        return f"Ligne {line.number} : {exc.message}"
