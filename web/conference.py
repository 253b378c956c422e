"""« Conférence des financeurs » (issue 14, point 6): the sessions of the territory, a
session's page — funders present, agenda, each funder's position per request and the plan
re-balanced with the intended amounts, re-computed at each position —, its minutes as a
PDF. Reads in ``cases.conference``, writes in ``cases.services.conference``; the views
parse the forms and render. Anyone who may not read a session gets a 404, and anyone who
may not prepare it (``conference.may_manage``) on its edit and agenda forms."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cases import conference
from cases.models import PositionStance
from cases.services import conference as services
from engine.errors import DomainError
from schemes.models import Funder

from .pdf import pdf_response, render_pdf
from .porteur_forms import DayField, GuichetForm, MoneyField


class SessionForm(GuichetForm):
    date = DayField(label="Date de la séance", error_messages={"required": "Indiquez la date."})
    title = forms.CharField(
        label="Intitulé", max_length=200, error_messages={"required": "Indiquez un intitulé."}
    )
    place = forms.CharField(label="Lieu", max_length=200, required=False)
    funders = forms.MultipleChoiceField(
        label="Financeurs présents",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Ce financeur n'existe pas : choisissez dans la liste."},
    )
    notes = forms.CharField(
        label="Relevé des échanges",
        required=False,
        max_length=services.NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Ce qui s'est dit, repris dans le relevé en PDF.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funders"].choices = [
            (str(pk), name)
            for pk, name in Funder.objects.order_by("name").values_list("pk", "name")
        ]

    def values(self) -> dict:
        d = self.cleaned_data
        return {
            "date": d["date"],
            "title": d["title"],
            "place": d["place"],
            "notes": d["notes"],
            "funder_ids": [int(x) for x in d["funders"]],
        }


class AgendaForm(GuichetForm):
    case = forms.TypedChoiceField(
        label="Dossier à inscrire",
        coerce=int,
        error_messages={
            "required": "Choisissez un dossier.",
            "invalid_choice": "Ce dossier ne peut pas être inscrit : choisissez dans la liste.",
        },
    )

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        cases = conference.agenda_candidates(session=session)[: conference.CANDIDATES_MAX]
        self.fields["case"].choices = [("", "—")] + [
            (c.pk, f"{c.reference or c.pk} — {c.title} ({c.organisation.name})") for c in cases
        ]


class PositionForm(GuichetForm):
    funding_request = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        max_value=2**62,
        error_messages={"invalid": "Demande introuvable : rechargez la page."},
    )
    stance = forms.ChoiceField(
        label="Position",
        choices=PositionStance.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez une position.",
            "invalid_choice": "Cette position n'existe pas : choisissez dans la liste.",
        },
    )
    amount = MoneyField(
        label="Montant envisagé (€)",
        required=False,
        help_text="Obligatoire si le financeur financera ; vide s'il ne financera pas.",
    )
    comment = forms.CharField(
        label="Commentaire",
        required=False,
        max_length=services.COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _nav(user) -> str:
    return "funders" if user.effective_role == "funder_instructor" else "maquette"


def _session(request, pk: int):
    try:
        return conference.session_get(user=request.user, pk=pk)
    except DomainError:
        raise Http404("Séance introuvable.") from None


def _managed_session(request, pk: int):
    """The session, for who prepares it (``conference.may_manage``): a 404 for anyone else."""
    if not conference.may_manage(request.user):
        raise Http404("Séance introuvable.")
    return _session(request, pk)


def _session_url(session, anchor: str = "") -> str:
    url = reverse("web:conference-detail", args=[session.pk])
    return f"{url}#{anchor}" if anchor else url


def _position_forms(entries, failed: PositionForm | None):
    """Each request row a form (the failed one shown again with its errors)."""
    for entry in entries:
        for row in entry.requests:
            if not row.may_record:
                row.form = None
                continue
            if failed is not None and failed.data.get("funding_request") == str(row.fr.pk):
                row.form = failed
                continue
            initial = {"funding_request": row.fr.pk}
            if row.position is not None:
                p = row.position
                initial |= {"stance": p.stance, "amount": p.amount, "comment": p.comment}
            row.form = PositionForm(initial=initial, auto_id=f"p{row.fr.pk}_%s")


def _page(request, session, *, status: int = 200, **forms_in):
    user = request.user
    manage = conference.may_manage(user)
    entries = conference.agenda(session=session, user=user)
    _position_forms(entries, forms_in.get("position_form"))
    context = {
        "nav": _nav(user),
        "session": session,
        "funders": list(session.funders.order_by("name")),
        "entries": entries,
        "may_manage": manage,
        "error": forms_in.get("error"),
    }
    if manage:
        context["session_form"] = forms_in.get("session_form") or SessionForm(
            initial={
                "date": session.date,
                "title": session.title,
                "place": session.place,
                "notes": session.notes,
                "funders": [str(f.pk) for f in context["funders"]],
            },
            auto_id="s_%s",
        )
        context["agenda_form"] = forms_in.get("agenda_form") or AgendaForm(session=session)
    return render(request, "web/conference/session.html", context, status=status)


@login_required
def conference_list(request):
    user = request.user
    if not conference.may_read(user):
        raise Http404
    form = SessionForm(request.POST or None, auto_id="s_%s")
    status = 200
    if request.method == "POST":
        if not conference.may_manage(user):
            raise Http404
        if form.is_valid():
            try:
                session = services.session_create(actor=user, **form.values())
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Séance créée.")
                return redirect(_session_url(session))
        status = 400
    context = {
        "nav": _nav(user),
        "sessions": conference.session_list(user=user)[:200],
        "form": form if conference.may_manage(user) else None,
    }
    return render(request, "web/conference/list.html", context, status=status)


@login_required
@require_GET
def conference_detail(request, pk: int):
    return _page(request, _session(request, pk))


@login_required
@require_POST
def conference_edit(request, pk: int):
    session = _managed_session(request, pk)
    form = SessionForm(request.POST, auto_id="s_%s")
    if form.is_valid():
        try:
            services.session_update(actor=request.user, session=session, **form.values())
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Séance enregistrée.")
            return redirect(_session_url(session))
    return _page(request, session, session_form=form, status=400)


@login_required
@require_POST
def agenda_add(request, pk: int):
    session = _managed_session(request, pk)
    form = AgendaForm(request.POST, session=session)
    if form.is_valid():
        try:
            services.agenda_add(
                actor=request.user, session=session, case_id=form.cleaned_data["case"]
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Dossier inscrit à l'ordre du jour.")
            return redirect(_session_url(session, "ordre-du-jour"))
    return _page(request, session, agenda_form=form, status=400)


@login_required
@require_POST
def agenda_remove(request, pk: int, item_pk: int):
    session = _managed_session(request, pk)
    try:
        services.agenda_remove(actor=request.user, session=session, item_id=item_pk)
    except DomainError as exc:
        if exc.code == "not_found":
            raise Http404(exc.message) from None
        return _page(request, session, error=exc.message, status=409)
    messages.success(request, "Dossier retiré de l'ordre du jour.")
    return redirect(_session_url(session, "ordre-du-jour"))


@login_required
@require_POST
def position_record(request, pk: int):
    session = _session(request, pk)
    fr_id = request.POST.get("funding_request", "")
    form = PositionForm(request.POST, auto_id=f"p{fr_id[:20]}_%s")
    if form.is_valid():
        d = form.cleaned_data
        try:
            position = services.position_record(
                actor=request.user,
                session=session,
                funding_request_id=d["funding_request"],
                stance=d["stance"],
                amount=d["amount"],
                comment=d["comment"],
            )
        except DomainError as exc:
            if exc.code in ("not_found", "forbidden"):
                return _page(request, session, error=exc.message, status=exc.status)
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Position enregistrée ; le plan est recalculé.")
            anchor = f"dossier-{position.funding_request.case_id}"
            return redirect(_session_url(session, anchor))
    else:
        if "funding_request" in form.errors:
            return _page(request, session, error="Demande introuvable.", status=404)
    return _page(request, session, position_form=form, status=400)


@login_required
@require_GET
def conference_minutes(request, pk: int):
    session = _session(request, pk)
    positions = list(conference.session_positions(session))
    context = {
        "session": session,
        "funders": list(session.funders.order_by("name")),
        "entries": conference.agenda(session=session, user=request.user, positions=positions),
        "positions": positions,
    }
    pdf = render_pdf("web/pdf/conference.html", context, request=request)
    return pdf_response(pdf, f"conference-financeurs-{session.date:%Y-%m-%d}.pdf")
