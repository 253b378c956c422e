"""Demo data: users for every role, the organisations of the 72 real 2019 DETR/DSIL
operations of the territory, dossiers spread over the whole lifecycle, and LEADER
dossiers through a programming committee.

Everything goes through the services and the engine's transition service, exactly as a
user would: dossiers are created by their porteur, documents uploaded, every state change
is a ``transition_apply`` with the event's (past) date. Event dates are computed backwards
from today so that the deadlines they open are consistent with the state the dossier is
left in (a dossier left « déposé » is still within its completeness period, a grant left
unused for more than two years is made « caduc » by the sweep, and so on).

Private organisations and LEADER dossiers are fictional; the DETR/DSIL operations (title,
holder, cost, subsidy, rate) are the real ones (ANCT open data, Licence Ouverte 2.0).

``load_demo()`` is idempotent: if the demo is already loaded, it does nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from engine.calendar import is_working_day
from engine.transitions import transition_apply
from schemes.models import EPCI, Commune, Funder, Scheme, Territory

from . import committee, services
from .models import Case, FundingRequest, Opinion, Organisation, PaymentClaim, User
from .rules import euros
from .siren import luhn_valid

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data" / "detr_dsil_2019_operations.csv"
PASSWORD = "bastides-2026"  # demo only; passes Django's password validators
EMAIL_DOMAIN = "example.org"
MARKER_USER = "agent.carmausin"
MARKER_TITLE = "Itinéraire de découverte des bastides du Cordais (signalétique et application)"
CENT = Decimal("0.01")

# The five agents, one per EPCI (username suffix, EPCI SIREN, first name, last name).
AGENTS = [
    ("carmausin", "200040905", "Claire", "Fabre"),
    ("centretarn", "200034049", "Julien", "Rouquette"),
    ("montsalban", "200034031", "Sophie", "Alquier"),
    ("val81", "248100497", "Mathieu", "Cabrol"),
    ("cordais", "200034064", "Élodie", "Vidal"),
]
EPCI_SHORT = {siren: suffix for suffix, siren, _, _ in AGENTS}
PARTNERS = [("carmausin", "200040905"), ("val81", "248100497")]
# LEADER committee: 12 members; the public college is one interest group.
COMMITTEE = [
    ("comite.elu1", "public", ""),
    ("comite.elu2", "public", ""),
    ("comite.elu3", "public", ""),
    ("comite.elu4", "public", ""),
    ("comite.elu5", "public", ""),
    ("comite.agri1", "private", "agriculture"),
    ("comite.agri2", "private", "agriculture"),
    ("comite.asso1", "private", "associations"),
    ("comite.asso2", "private", "associations"),
    ("comite.entreprise1", "private", "entreprises"),
    ("comite.entreprise2", "private", "entreprises"),
    ("comite.tourisme1", "private", "tourisme"),
]
# Present at the closed session: 9 of 12 (quorum 50 %), public college 4 of 9 votes (44 %).
PRESENT_CLOSED = [
    "comite.elu1",
    "comite.elu2",
    "comite.elu3",
    "comite.elu4",
    "comite.agri1",
    "comite.agri2",
    "comite.asso1",
    "comite.entreprise1",
    "comite.tourisme1",
]
INSTRUCTORS = [
    ("instr.etat", "ETAT", "Préfecture du Tarn — bureau des dotations"),
    ("instr.region", "REGION_OCC", "Région Occitanie — service territoires"),
    ("instr.departement", "DEPT_TARN", "Département du Tarn — développement territorial"),
    ("instr.feader", "UE", "Service instructeur FEADER (Région, autorité de gestion)"),
]
SCHEME_INSTRUCTOR = {
    "DETR": "instr.etat",
    "DSIL": "instr.etat",
    "FONDS_VERT": "instr.etat",
    "REGION_OCC": "instr.region",
    "DEPT_TARN": "instr.departement",
    "LEADER": "instr.feader",
}

# How many of the 72 operations end in each state (shuffled deterministically).
DISTRIBUTION = {
    "idea": 4,
    "scoping": 3,
    "draft": 5,
    "submitted": 5,
    "incomplete": 4,
    "instruction": 6,
    "decided": 6,
    "in_progress": 11,
    "completed": 6,
    "closed": 13,
    "rejected": 3,
    "withdrawn": 3,
    "lapsed": 3,
}
MULTI_FUNDER_STATES = {"submitted", "instruction", "decided", "in_progress", "completed", "closed"}


# ---------------------------------------------------------------- small helpers


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def commune_siren(insee: str) -> str:
    """A commune's SIREN: 21 + INSEE code + 0 + Luhn key (e.g. Carmaux 81060 → 218106003)."""
    base = f"21{insee}0"
    for key in range(10):
        if luhn_valid(base + str(key)):
            return base + str(key)
    raise AssertionError("unreachable")


def tiny_pdf(title: str, lines: list[str]) -> bytes:
    """A small, valid one-page PDF (Helvetica, WinAnsi) with a title and a few lines."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 14 Tf", "50 790 Td", f"({esc(title[:90])}) Tj", "/F1 10 Tf"]
    for line in lines:
        ops += ["0 -18 Td", f"({esc(line[:110])}) Tj"]
    ops.append("ET")
    content = "\n".join(ops).encode("cp1252", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def aware(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 30)))


@dataclass
class Report:
    skipped: bool = False
    users: int = 0
    organisations: int = 0
    cases: Counter = field(default_factory=Counter)
    payments: int = 0
    sweep: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        if self.skipped:
            return ["Données de démonstration déjà chargées : rien à faire."]
        out = [
            f"{self.users} utilisateurs, {self.organisations} organisations, "
            f"{sum(self.cases.values())} dossiers, {self.payments} paiements."
        ]
        out += [f"  {state}: {n}" for state, n in sorted(self.cases.items())]
        out += [f"  balayage {name}: {n}" for name, n in self.sweep.items()]
        return out


# ---------------------------------------------------------------- timelines


class Timeline:
    """Event dates of one dossier, computed forward from the receipt as offsets (days),
    then shifted so that its last event falls ``last_ago`` days before today, and moved
    back to a working day. Every date is therefore in the past and in order."""

    def __init__(self, today: dt.date, rng: random.Random):
        self.today = today
        self.rng = rng
        self.offsets: dict[str, int] = {"receipt": 0}
        self.cursor = 0
        self.dates: dict[str, dt.date] = {}

    def then(self, name: str, low: int, high: int | None = None) -> Timeline:
        self.cursor += self.rng.randint(low, high or low)
        self.offsets[name] = self.cursor
        return self

    def anchor(self, last: str, low: int, high: int | None = None) -> dict[str, dt.date]:
        last_ago = self.rng.randint(low, high or low)
        origin = self.today - dt.timedelta(days=last_ago + self.offsets[last])
        for name, offset in self.offsets.items():
            day = origin + dt.timedelta(days=offset)
            while not is_working_day(day):
                day -= dt.timedelta(days=1)
            self.dates[name] = min(day, self.today - dt.timedelta(days=1))
        return self.dates


# ---------------------------------------------------------------- the builder


class DemoBuilder:
    def __init__(self, *, today: dt.date | None = None, seed: int = 2019):
        self.today = today or timezone.localdate()
        self.rng = random.Random(seed)
        self.report = Report()
        self.users: dict[str, User] = {}
        self.schemes = {s.code: s for s in Scheme.objects.all()}
        self.password_hash = make_password(PASSWORD)

    # -- users -----------------------------------------------------------------

    def user(self, username: str, role: str, **fields) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                role=role,
                email=f"{username}@{EMAIL_DOMAIN}",
                password=self.password_hash,
                **fields,
            )
            user.save()
            self.report.users += 1
        self.users[username] = user
        return user

    def build_users(self) -> None:
        epcis = {e.siren: e for e in EPCI.objects.all()}
        self.user(
            "admin",
            User.Role.ADMIN,
            is_superuser=True,
            is_staff=True,
            first_name="Administrateur",
            last_name="Guichet",
        )
        self.user("direction", User.Role.DIRECTOR, first_name="Anne", last_name="Marty")
        for suffix, siren, first, last in AGENTS:
            self.user(
                f"agent.{suffix}",
                User.Role.AGENT,
                epci=epcis[siren],
                first_name=first,
                last_name=last,
            )
        for suffix, siren in PARTNERS:
            self.user(f"partenaire.{suffix}", User.Role.EPCI_PARTNER, epci=epcis[siren])
        for username, college, group in COMMITTEE:
            self.user(username, User.Role.COMMITTEE_MEMBER, college=college, interest_group=group)
        funders = {f.code: f for f in Funder.objects.all()}
        for username, code, name in INSTRUCTORS:
            self.user(username, User.Role.FUNDER_INSTRUCTOR, funder=funders[code], last_name=name)

    # -- organisations ---------------------------------------------------------

    def organisation(self, *, name, kind, siren=None, commune=None, epci=None) -> Organisation:
        lookup = {"siren": siren} if siren else {"name": name, "kind": kind}
        org = Organisation.objects.filter(**lookup).first()
        if org is None:
            org = Organisation.objects.create(
                name=name, kind=kind, siren=siren, commune=commune, epci=epci
            )
            self.report.organisations += 1
        return org

    def porteur_for(self, org: Organisation, username: str) -> User:
        return self.user(username, User.Role.PORTEUR, organisation=org)

    def holder(self, row: dict) -> tuple[Organisation, User]:
        code = row["id_terr"]
        if row["echelon"] == "epci":
            epci = EPCI.objects.get(siren=code)
            org = self.organisation(
                name=epci.name, kind=Organisation.Kind.EPCI, siren=epci.siren, epci=epci
            )
            return org, self.porteur_for(org, f"cc.{EPCI_SHORT[epci.siren]}")
        commune = Commune.objects.get(insee=code)
        org = self.organisation(
            name=f"Commune de {commune.name}",
            kind=Organisation.Kind.COMMUNE,
            siren=commune_siren(commune.insee),
            commune=commune,
        )
        return org, self.porteur_for(org, f"mairie.{slugify(commune.name)}")

    # -- generic steps ---------------------------------------------------------

    def fresh(self, obj):
        return type(obj)._default_manager.get(pk=obj.pk)

    def apply(self, obj, name: str, actor, comment: str = "", **data):
        data = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}
        return transition_apply(
            instance=self.fresh(obj), name=name, actor=actor, comment=comment, data=data
        )

    def backdate(self, case: Case, day: dt.date) -> None:
        created = aware(day, hour=10)
        reference = Territory.format_reference(
            Territory.prefix_of(case.territory_id), day.year, case.pk
        )
        Case.objects.filter(pk=case.pk).update(created_at=created, reference=reference)

    def upload(self, case: Case, actor: User, codes: list[str]) -> None:
        labels = {}
        for scheme in self.schemes.values():
            for doc in scheme.required_documents or []:
                labels[doc["code"]] = doc["label"]
        for code in codes:
            label = labels.get(code, "Pièce complémentaire")
            pdf = tiny_pdf(
                label,
                [
                    f"Dossier {case.reference or case.pk} : {case.title}",
                    f"Maître d'ouvrage : {case.organisation.name}",
                    "Document de démonstration généré par Guichet.",
                ],
            )
            services.document_upload(
                actor=actor,
                case=case,
                kind=code,
                label=label,
                upload=SimpleUploadedFile(f"{code}.pdf", pdf, content_type="application/pdf"),
            )

    def required_codes(self, scheme_codes: list[str]) -> list[str]:
        codes: list[str] = []
        for code in scheme_codes:
            for doc in self.schemes[code].required_documents or []:
                if doc["code"] not in codes:
                    codes.append(doc["code"])
        return codes

    def instructor(self, fr: FundingRequest) -> User:
        return self.users[SCHEME_INSTRUCTOR[fr.scheme.code]]

    def requests(self, case: Case) -> list[FundingRequest]:
        return list(case.funding_requests.select_related("scheme").order_by("id"))

    def pay_claim(self, fr, porteur, kind, amount, filed, verified=None, paid=None) -> None:
        claim = services.claim_create(
            actor=porteur,
            funding_request=self.fresh(fr),
            data={"kind": kind, "amount": str(amount), "filed_on": filed.isoformat()},
        )
        self.apply(claim, "file", porteur, date=filed)
        if verified is None:
            return
        instr = self.instructor(fr)
        self.apply(claim, "verify", instr, "Service fait contrôlé sur pièces.", date=verified)
        if paid is None or self.fresh(claim).state != "verified":
            return
        self.apply(claim, "pay", instr, "Mandatement.", amount=str(amount), date=paid)
        self.report.payments += 1

    # -- the 72 real operations -------------------------------------------------

    def financing_plan(self, row: dict, multi: bool) -> tuple[dict, list[str]]:
        cost = money(row["cout_total"])
        subsidy = money(row["montant_sub"])
        scheme = row["dotation"]
        eligible = cost
        expenses = []
        if subsidy / cost < self.schemes[scheme].rate_min:
            # The 2019 subsidy was computed on part of the cost: the rest is not eligible.
            eligible = money(subsidy / Decimal("0.25"))
            expenses.append(
                {"label": "Travaux — part éligible", "amount": str(eligible), "tax": "HT"}
            )
            expenses.append(
                {
                    "label": "Travaux — part non retenue par l'État",
                    "amount": str(cost - eligible),
                    "tax": "HT",
                    "eligible": False,
                }
            )
        else:
            expenses.append({"label": "Travaux et équipements", "amount": str(cost), "tax": "HT"})
        resources = [{"kind": "scheme", "scheme": scheme, "amount": str(subsidy)}]
        schemes = [scheme]
        own = eligible - subsidy
        if multi:
            dept = money((eligible * Decimal("0.10")).quantize(Decimal("1")))
            resources.append({"kind": "scheme", "scheme": "DEPT_TARN", "amount": str(dept)})
            schemes.append("DEPT_TARN")
            own -= dept
        resources.append({"kind": "self", "amount": str(own), "label": "Fonds propres"})
        return {"expenses": expenses, "resources": resources}, schemes

    def build_operations(self) -> None:
        rows = list(csv.DictReader(DATA.open(encoding="utf-8")))
        targets = [state for state, n in DISTRIBUTION.items() for _ in range(n)]
        assert len(targets) == len(rows), (len(targets), len(rows))
        self.rng.shuffle(targets)
        seen = Counter()
        for row, target in zip(rows, targets, strict=True):
            seen[target] += 1
            self.build_operation(row, target, seen[target])

    def build_operation(self, row: dict, target: str, nth: int) -> None:
        org, porteur = self.holder(row)
        cost = money(row["cout_total"])
        multi = target in MULTI_FUNDER_STATES and cost >= 100000 and nth % 2 == 1
        plan, schemes = self.financing_plan(row, multi)
        category = row["categorie"].split(" - ", 1)[-1]
        communes = [row["id_terr"]] if row["echelon"] == "commune" else []
        rate = Decimal(row["pct_sub"]) * 100
        description = (
            f"{row['description'].strip()}.\n\nOpération réelle financée en 2019 au titre de "
            f"la {row['dotation']} (ANCT, projet {row['id_projet']}) : coût total "
            f"{euros(cost)}, subvention {euros(money(row['montant_sub']))} "
            f"({str(rate.quantize(Decimal('0.1'))).replace('.', ',')} %)."
        )
        case = services.case_create(
            actor=porteur,
            data={
                "title": row["description"].strip()[:300],
                "description": description,
                "theme": category,
                "organisation": org.pk,
                "communes": communes,
                "financing_plan": plan,
            },
        )
        agent = case.referent_agent
        t = Timeline(self.today, self.rng)

        if target in ("idea", "scoping"):
            created = self.today - dt.timedelta(days=self.rng.randint(10, 150))
            self.backdate(case, created)
            if target == "scoping":
                self.apply(
                    case,
                    "start_scoping",
                    agent,
                    "Rendez-vous d'accompagnement amont.",
                    date=min(created + dt.timedelta(days=7), self.today),
                )
                services.opinion_create(
                    actor=agent,
                    case=self.fresh(case),
                    kind=Opinion.Kind.OPPORTUNITY,
                    value=Opinion.Value.FAVOURABLE,
                    text="Projet cohérent avec le projet de territoire ; plan de financement "
                    "à consolider avant le recrutement du maître d'œuvre.",
                )
            return self.done(case)
        if target == "draft" or (target == "withdrawn" and nth == 1):
            self.apply(case, "open_application", porteur, "Ouverture de la demande.")
            self.backdate(case, self.today - dt.timedelta(days=self.rng.randint(5, 120)))
            codes = self.required_codes(schemes)
            self.upload(self.fresh(case), porteur, codes[: self.rng.randint(0, len(codes) - 1)])
            if target == "withdrawn":
                self.apply(
                    case,
                    "withdraw",
                    porteur,
                    reason="Projet reporté : le conseil municipal attend le diagnostic "
                    "énergétique avant de déposer.",
                )
            return self.done(case)

        # Every further state starts with a complete deposit.
        t.then("request_documents", 12, 25).then("provide_documents", 10, 20)
        t.then("complete", 15, 35).then("grant", 45, 100).then("commit", 10, 40)
        t.then("start", 25, 90).then("adv_filed", 10, 30).then("adv_verified", 8, 20)
        t.then("adv_paid", 20, 50).then("completion", 120, 240).then("bal_filed", 10, 40)
        t.then("bal_verified", 8, 20).then("bal_paid", 20, 70)
        variant = nth % 3
        anchors = {
            "submitted": ("receipt", 5, 70),
            "incomplete": ("request_documents", 3, 25),
            "instruction": ("complete", 5, 55),
            "rejected": ("grant", 30, 300),
            "decided": ("commit" if variant else "grant", 20, 300),
            "lapsed": ("grant", 760, 800),
            "withdrawn": ("complete" if nth == 2 else "commit", 40, 200),
            "in_progress": [
                ("start", 20, 200),
                ("adv_paid", 10, 150),
                ("adv_filed", 95, 110),
            ][variant],
            "completed": [("completion", 15, 90), ("bal_verified", 5, 25), ("bal_filed", 5, 30)][
                variant
            ],
            "closed": ("bal_paid", 10, 150),
        }
        last, low, high = anchors[target]
        d = t.anchor(last, low, high)
        opened = d["receipt"] - dt.timedelta(days=self.rng.randint(20, 90))
        self.backdate(case, opened)
        self.apply(case, "open_application", porteur, "Ouverture de la demande.", date=opened)
        self.upload(self.fresh(case), porteur, self.required_codes(schemes))
        self.apply(case, "submit", porteur, "Dépôt du dossier complet.", date=d["receipt"])
        if target == "submitted":
            if nth == 1:
                self.apply(
                    case,
                    "request_documents",
                    agent,
                    documents=["Plan de financement signé"],
                    date=d["receipt"],
                )
                self.upload(self.fresh(case), porteur, ["other"])
                self.apply(case, "provide_documents", porteur, date=d["receipt"])
            return self.done(case)
        if target == "incomplete":
            self.apply(
                case,
                "request_documents",
                agent,
                "Pièces manquantes pour déclarer le dossier complet.",
                documents=[
                    "Délibération du conseil approuvant le plan de financement définitif",
                    "Devis actualisés (moins de 6 mois)",
                ][: 1 + nth % 2],
                date=d["request_documents"],
            )
            return self.done(case)

        self.apply(case, "declare_complete", agent, "Dossier complet.", date=d["complete"])
        partner = User.objects.filter(role=User.Role.EPCI_PARTNER, epci_id=case.epci_id).first()
        if partner is not None and nth % 2:
            services.opinion_create(
                actor=partner,
                case=self.fresh(case),
                kind=Opinion.Kind.EPCI,
                value=Opinion.Value.FAVOURABLE,
                text="Avis favorable de la communauté de communes : projet inscrit au plan "
                "pluriannuel d'investissement.",
            )
        elif nth % 3 == 0:
            services.opinion_create(
                actor=agent,
                case=self.fresh(case),
                kind=Opinion.Kind.TRANSITION,
                value=Opinion.Value.FAVOURABLE,
                text="Lecture transitionnelle : sobriété énergétique et usage partagé du "
                "bâtiment à valoriser.",
            )
        for fr in self.requests(case):
            self.apply(fr, "start_instruction", self.instructor(fr), date=d["complete"])
        if target == "instruction" or (target == "withdrawn" and nth == 2):
            if target == "withdrawn":
                self.apply(
                    case,
                    "withdraw",
                    agent,
                    reason="Abandon signalé par la commune : coût des travaux réévalué "
                    "au-delà de sa capacité d'emprunt.",
                )
            return self.done(case)
        if target == "rejected":
            for fr in self.requests(case):
                self.apply(
                    fr,
                    "refuse",
                    self.instructor(fr),
                    motivation="Enveloppe départementale de l'exercice épuisée ; le projet "
                    "peut être représenté à la prochaine programmation.",
                    date=d["grant"],
                )
            return self.done(case)

        for fr in self.requests(case):
            self.apply(
                fr,
                "grant",
                self.instructor(fr),
                "Arrêté attributif notifié.",
                amount_granted=str(fr.amount_requested),
                date=d["grant"],
            )
        if target == "lapsed" or (target == "decided" and variant == 0):
            return self.done(case)  # the lapsed ones are made « caduc » by the sweep
        for fr in self.requests(case):
            self.apply(fr, "commit", self.instructor(fr), "Convention signée.", date=d["commit"])
        if target in ("decided", "withdrawn"):
            if target == "withdrawn":
                self.apply(
                    case,
                    "withdraw",
                    porteur,
                    reason="La commune renonce : projet repris par l'intercommunalité.",
                )
            return self.done(case)

        self.apply(case, "start_works", porteur, "Ordre de service n° 1.", date=d["start"])
        with_advance = (
            (target == "in_progress" and variant != 0)
            or (target == "completed" and variant == 1)
            or (target == "closed" and nth % 2 == 1)
        )
        if with_advance:
            for fr in self.requests(case):
                if fr.scheme.advance_max_rate is None:
                    continue
                amount = money(fr.amount_requested * fr.scheme.advance_max_rate)
                unpaid = target == "in_progress" and variant == 2
                self.pay_claim(
                    fr,
                    porteur,
                    PaymentClaim.Kind.ADVANCE,
                    amount,
                    d["adv_filed"],
                    None if unpaid else d["adv_verified"],
                    None if unpaid else d["adv_paid"],
                )
        if target == "in_progress":
            return self.done(case)
        self.apply(case, "complete_works", porteur, "Réception des travaux.", date=d["completion"])
        if target == "completed" and variant == 0:
            return self.done(case)
        for fr in self.requests(case):
            fr = self.fresh(fr)
            balance = fr.amount_granted - fr.amount_paid
            self.pay_claim(
                fr,
                porteur,
                PaymentClaim.Kind.BALANCE,
                balance,
                d["bal_filed"],
                None if target == "completed" and variant == 2 else d["bal_verified"],
                d["bal_paid"] if target == "closed" else None,
            )
        return self.done(case)

    def done(self, case: Case) -> Case:
        case = self.fresh(case)
        self.report.cases[case.state] += 1
        return case

    # -- LEADER and the programming committee -------------------------------------

    def leader_dossier(self, *, org, porteur, title, description, theme, plan, receipt):
        case = services.case_create(
            actor=porteur,
            data={
                "title": title,
                "description": description,
                "theme": theme,
                "organisation": org.pk,
                "communes": [org.commune.insee] if org.commune_id else [],
                "financing_plan": plan,
            },
        )
        self.backdate(case, receipt - dt.timedelta(days=45))
        self.apply(
            case,
            "open_application",
            porteur,
            "Ouverture de la demande.",
            date=receipt - dt.timedelta(days=45),
        )
        schemes = [r["scheme"] for r in plan["resources"] if r["kind"] == "scheme"]
        self.upload(self.fresh(case), porteur, self.required_codes(schemes))
        self.apply(case, "submit", porteur, "Dépôt du dossier LEADER.", date=receipt)
        agent = case.referent_agent
        self.apply(
            case,
            "declare_complete",
            agent,
            "Dossier complet.",
            date=receipt + dt.timedelta(days=14),
        )
        for fr in self.requests(case):
            self.apply(
                fr,
                "start_instruction",
                agent if fr.scheme.committee else self.instructor(fr),
                date=receipt + dt.timedelta(days=14),
            )
        return case, agent

    def to_committee(self, case: Case, agent: User, pre_score: str) -> FundingRequest:
        fr = case.funding_requests.get(scheme__code="LEADER")
        self.apply(
            fr,
            "submit_to_committee",
            agent,
            "Pré-notation sur la grille.",
            pre_score=pre_score,
            date=self.fresh(case).receipt_date + dt.timedelta(days=21),
        )
        return fr

    def day(self, ago: int) -> dt.date:
        day = self.today - dt.timedelta(days=ago)
        while not is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def scores(self, target: int) -> dict[str, int]:
        grid = self.schemes["LEADER"].grid
        scores = {c["code"]: 0 for c in grid}
        left = max(0, min(target + self.rng.randint(-1, 1), sum(c["max"] for c in grid)))
        while left:
            criterion = self.rng.choice(grid)
            if scores[criterion["code"]] < criterion["max"]:
                scores[criterion["code"]] += 1
                left -= 1
        return scores

    def build_leader(self) -> None:
        cordes = Commune.objects.get(insee="81069")
        sainte_gemme = Commune.objects.get(insee="81249")
        monesties = Commune.objects.get(insee="81170")
        valence = Commune.objects.get(insee="81308")
        asso = self.organisation(
            name="Association Patrimoine et Bastides du Cordais",
            kind=Organisation.Kind.ASSOCIATION,
            commune=cordes,
        )
        asso_user = self.porteur_for(asso, "asso.bastides")
        ferme = self.organisation(
            name="SARL La Ferme des Causses", kind=Organisation.Kind.COMPANY, commune=valence
        )
        ferme_user = self.porteur_for(ferme, "ferme.causses")
        jardins = self.organisation(
            name="Association Les Jardins partagés du Ségala",
            kind=Organisation.Kind.ASSOCIATION,
            commune=sainte_gemme,
        )
        jardins_user = self.porteur_for(jardins, "asso.jardins")
        mairie_monesties = self.organisation(
            name="Commune de Monestiés",
            kind=Organisation.Kind.COMMUNE,
            siren=commune_siren("81170"),
            commune=monesties,
        )
        monesties_user = self.porteur_for(mairie_monesties, "mairie.monesties")
        carmaux = self.organisation(
            name="Commune de Carmaux",
            kind=Organisation.Kind.COMMUNE,
            siren=commune_siren("81060"),
            commune=Commune.objects.get(insee="81060"),
        )
        carmaux_user = self.porteur_for(carmaux, "mairie.carmaux")
        centre_tarn = EPCI.objects.get(siren="200034049")
        cc = self.organisation(
            name=centre_tarn.name,
            kind=Organisation.Kind.EPCI,
            siren=centre_tarn.siren,
            epci=centre_tarn,
        )
        cc_user = self.porteur_for(cc, f"cc.{EPCI_SHORT[centre_tarn.siren]}")

        def plan(total, *lines):
            resources = [
                {"kind": "scheme", "scheme": code, "amount": f"{amount}.00"}
                for code, amount in lines
            ]
            own = total - sum(amount for _, amount in lines)
            resources.append({"kind": "self", "amount": f"{own}.00", "label": "Fonds propres"})
            return {
                "expenses": [{"label": "Investissements et prestations", "amount": f"{total}.00"}],
                "resources": resources,
            }

        first_receipt = self.day(250)
        l1, a1 = self.leader_dossier(
            org=asso,
            porteur=asso_user,
            title=MARKER_TITLE,
            description="Balisage d'un circuit de 12 km reliant Cordes-sur-Ciel aux bastides "
            "voisines, panneaux d'interprétation et application mobile hors ligne.",
            theme="Tourisme et patrimoine",
            plan=plan(60000, ("LEADER", 36000), ("DEPT_TARN", 9000)),
            receipt=first_receipt,
        )
        l2, a2 = self.leader_dossier(
            org=ferme,
            porteur=ferme_user,
            title="Atelier de transformation et magasin de producteurs à Valence-d'Albigeois",
            description="Atelier collectif de découpe et de transformation, point de vente de "
            "six exploitations du Ségala.",
            theme="Économie et emploi",
            plan=plan(80000, ("LEADER", 32000), ("REGION_OCC", 8000)),
            receipt=first_receipt + dt.timedelta(days=3),
        )
        l3, a3 = self.leader_dossier(
            org=mairie_monesties,
            porteur=monesties_user,
            title="Aire de services pour randonneurs et camping-cars à Monestiés",
            description="Aire d'accueil avec borne de services, abri vélos et sanitaires.",
            theme="Tourisme et patrimoine",
            plan=plan(50000, ("LEADER", 25000)),
            receipt=first_receipt + dt.timedelta(days=7),
        )
        l4, a4 = self.leader_dossier(
            org=carmaux,
            porteur=carmaux_user,
            title="Parcours lumineux du patrimoine minier à Carmaux",
            description="Mise en lumière scénarisée des chevalements et du puits Sainte-Marie.",
            theme="Culture",
            plan=plan(30000, ("LEADER", 20000)),
            receipt=first_receipt + dt.timedelta(days=10),
        )
        frs = [
            self.to_committee(l1, a1, "17"),
            self.to_committee(l2, a2, "14"),
            self.to_committee(l3, a3, "11"),
            self.to_committee(l4, a4, "10.5"),
        ]
        animator = self.users["agent.cordais"]
        members = [self.users[name] for name in PRESENT_CLOSED]
        session = committee.session_create(
            actor=animator,
            date=self.day(150),
            members=[m.pk for m in members],
            scheme=self.schemes["LEADER"],
        )
        # (votes against, abstentions, target score) per agenda item.
        intentions = {frs[0].pk: (0, 0, 16), frs[1].pk: (2, 1, 13), frs[2].pk: (1, 1, 8)}
        intentions[frs[3].pk] = (6, 1, 9)
        for fr in frs:
            against, abstain, target = intentions[fr.pk]
            for index, member in enumerate(members):
                vote = (
                    "against"
                    if index < against
                    else "abstain"
                    if index < against + abstain
                    else "for"
                )
                committee.vote_record(
                    actor=animator,
                    session=session,
                    funding_request_id=fr.pk,
                    member_id=member.pk,
                    vote=vote,
                    scores=self.scores(target),
                )
        self.apply(session, "close", animator, "Séance du comité de programmation.")

        # Selected: the co-financers and FEADER decide, conventions are signed.
        grant_day, commit_day = self.day(120), self.day(100)
        for case in (l1, l2):
            for fr in sorted(self.requests(case), key=lambda f: f.scheme.committee):
                self.apply(
                    fr,
                    "grant",
                    self.instructor(fr),
                    "Décision attributive.",
                    amount_granted=str(fr.amount_requested),
                    date=grant_day,
                )
                self.apply(fr, "commit", self.instructor(fr), "Convention signée.", date=commit_day)
        self.apply(l1, "start_works", asso_user, "Début de l'opération.", date=self.day(80))
        dept = l1.funding_requests.get(scheme__code="DEPT_TARN")
        leader = l1.funding_requests.get(scheme__code="LEADER")
        self.pay_claim(
            dept,
            asso_user,
            "installment",
            Decimal("4500.00"),
            self.day(50),
            self.day(40),
            self.day(25),
        )
        # 60 % of FEADER while the Département paid 50 %: waits for the co-financer.
        self.pay_claim(
            leader, asso_user, "installment", Decimal("21600.00"), self.day(45), self.day(35)
        )
        for case in (l1, l2, l3, l4):
            self.done(case)

        # Next session: two dossiers on the agenda.
        second_receipt = self.day(70)
        l5, a5 = self.leader_dossier(
            org=jardins,
            porteur=jardins_user,
            title="Jardin partagé et pédagogique de Sainte-Gemme",
            description="Création d'un jardin partagé, d'un verger conservatoire et d'ateliers "
            "avec l'école.",
            theme="Alimentation et transition",
            plan=plan(30000, ("LEADER", 16000), ("DEPT_TARN", 4000)),
            receipt=second_receipt,
        )
        l6, a6 = self.leader_dossier(
            org=cc,
            porteur=cc_user,
            title="Plan de mobilité rurale partagée du Centre Tarn",
            description="Étude et expérimentation d'autopartage et de transport solidaire.",
            theme="Mobilité",
            plan=plan(45000, ("LEADER", 28000)),
            receipt=second_receipt + dt.timedelta(days=5),
        )
        self.to_committee(l5, a5, "15")
        self.to_committee(l6, a6, "13")
        planned = self.today + dt.timedelta(days=24)
        while not is_working_day(planned):
            planned += dt.timedelta(days=1)
        committee.session_create(
            actor=animator,
            date=planned,
            members=[self.users[name].pk for name, _, _ in COMMITTEE],
            scheme=self.schemes["LEADER"],
        )
        self.done(l5)
        self.done(l6)

    def sweep(self) -> None:
        """One pass of the periodic jobs: lapses, reminders, alerts — as in production."""
        from engine.periodic import run_all
        from engine.sweep import sweep_expired

        try:
            self.report.sweep = run_all(today=self.today)
        except Exception:  # a periodic job of another layer failed: keep the demo usable
            log.exception("periodic jobs failed during load_demo; running the sweep alone")
            self.report.sweep = {"expired_deadlines": sweep_expired(today=self.today)}

    def run(self) -> Report:
        with transaction.atomic():
            self.build_users()
            self.build_leader()
            self.build_operations()
        self.sweep()
        self.report.cases = Counter(Case.objects.values_list("state", flat=True))
        return self.report


def demo_loaded() -> bool:
    return (
        User.objects.filter(username=MARKER_USER).exists()
        and Case.objects.filter(title=MARKER_TITLE).exists()
    )


def load_demo(*, today: dt.date | None = None) -> Report:
    if demo_loaded():
        return Report(skipped=True)
    return DemoBuilder(today=today).run()
