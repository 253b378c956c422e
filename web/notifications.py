"""« Mes notifications »: the in-app notifications of the user, newest first, paginated,
marked read one by one or all at once (issue 12). The same reads and writes as the API
(``notifications.selectors``, ``notifications.services``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cases.models import User
from notifications.selectors import notification_list
from notifications.services import notification_mark_read, notifications_mark_all_read

PER_PAGE = 20


def _case_url(user, case_id) -> str:
    if not case_id:
        return ""
    if user.effective_role == User.Role.PORTEUR:
        return reverse("web:case-porteur", args=[case_id])
    return reverse("web:case-detail", args=[case_id])


def _back(request) -> str:
    page = "".join(ch for ch in request.POST.get("page", "")[:6] if ch.isdigit())
    url = reverse("web:notifications")
    return f"{url}?page={page}" if page and page != "1" else url


@login_required
@require_GET
def notification_page(request):
    page = Paginator(notification_list(user=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [{"n": n, "url": _case_url(request.user, n.aggregate_id)} for n in page.object_list]
    return render(
        request,
        "web/notifications/list.html",
        {"page": page, "rows": rows, "nav": "notifications"},
    )


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = notification_mark_read(user=request.user, pk=pk)
    if notification is None:
        raise Http404("Notification introuvable.")
    if request.POST.get("open") and notification.aggregate_id:
        return redirect(_case_url(request.user, notification.aggregate_id))
    messages.success(request, "Notification marquée comme lue.")
    return redirect(_back(request))


@login_required
@require_POST
def notification_read_all(request):
    marked = notifications_mark_all_read(user=request.user)
    if marked:
        s = "s" if marked > 1 else ""
        messages.success(request, f"{marked} notification{s} marquée{s} comme lue{s}.")
    else:
        messages.info(request, "Aucune notification à marquer comme lue.")
    return redirect(_back(request))
