"""The scenario part of ``bench/programming.py`` (issue 14, point 3): a draft of 500
changes on the year's undecided requests — « à financer » at the amount asked or 80 % of
it, « à reporter », « à refuser » in turn — saved, then its figures recomputed as the page
does (the envelopes, the plans' 80 % / 20 % rules, the funded porteurs' treasury), the
page itself, and the application of its État decisions through the bulk transition
service, once, in a transaction rolled back (the data set is left as it was)."""

from __future__ import annotations

import time
from decimal import Decimal

CHANGES = 500


def _rows(requests) -> list[dict]:
    rows = []
    for k, fr in enumerate(requests):
        kind = k % 4
        if kind == 0:
            rows.append({"request": fr.pk, "choice": "fund", "amount": ""})
        elif kind == 1:
            amount = (fr.amount_requested * Decimal("0.8")).quantize(Decimal("1"))
            rows.append({"request": fr.pk, "choice": "fund", "amount": f"{amount}"})
        elif kind == 2:
            rows.append({"request": fr.pk, "choice": "postpone"})
        else:
            rows.append({"request": fr.pk, "choice": "refuse", "motivation": "Hors priorités."})
    return rows


def scenario_rows(row, out: dict, client, agent, year: int) -> None:

    from cases import scenarios
    from cases.models import Scenario
    from cases.services import scenarios as services
    from cases.services.scenarios import MAX_ROWS

    Scenario.objects.filter(title="Bench").delete()
    scenario = services.scenario_create(actor=agent, title="Bench", year=year)
    requests = list(scenarios.candidates(scenario, user=agent)[:CHANGES])
    rows = _rows(requests)

    def save():
        for start in range(0, len(rows), MAX_ROWS):
            services.scenario_items_save(
                actor=agent, scenario=scenario, rows=rows[start : start + MAX_ROWS]
            )
        return len(rows)

    row(f"scenario: save {len(rows)} changes", save, lambda r: f"{r} rows")
    items = lambda: list(scenarios.items_of(scenario, user=agent))  # noqa: E731
    row("scenario: its items, read", items, lambda r: f"{len(r)} items")
    loaded = items()
    row(
        f"scenario: envelopes recomputed ({len(loaded)} changes)",
        lambda: scenarios.envelopes(scenario, loaded, user=agent),
        lambda r: f"{len(r)} envelopes",
    )
    row(
        "scenario: plans' 80 %/20 % rules rerun",
        lambda: scenarios.plan_checks(loaded),
        lambda r: f"{len(r)} dossiers",
    )
    from django.core.cache import cache

    def cold(fn):  # the porteurs' exposures are kept in the cache: each run without them
        return lambda: (cache.clear(), fn())[1]

    row(
        "scenario: funded porteurs' treasury, computed",
        cold(lambda: scenarios.exposures(loaded)),
        lambda r: f"{len(r)} porteurs",
    )
    row(
        "scenario: funded porteurs' treasury, kept (cache)",
        lambda: scenarios.exposures(loaded),
        lambda r: f"{len(r)} porteurs",
    )

    _page_rows(row, out, client, scenario, cold)
    _apply_row(out, scenario)


def _page_rows(row, out: dict, client, scenario, cold) -> None:
    """The scenario's page seen cold (the treasury by its own request), that request, the
    page with the treasury kept, and what the agent waits for cold (the sum)."""

    def page(pending: bool = False):
        response = client.get(f"/programmation/scenarios/{scenario.pk}/")
        assert response.status_code == 200, response.status_code
        # Cold, the page leaves the treasury of its many porteurs to its own request.
        assert (b"data-treasury-src" in response.content) == pending
        return response

    def treasury():
        url = f"/programmation/scenarios/{scenario.pk}/tresorerie/"
        response = client.get(url, headers={"X-Scenario-Live": "1"})
        assert response.status_code == 200, response.status_code
        return response

    row("GET /programmation/scenarios/<id>/ (treasury not kept)", cold(lambda: page(True)))
    row("GET …/<id>/tresorerie/ (the treasury computed)", cold(treasury))
    row("GET /programmation/scenarios/<id>/ (treasury kept)", page)
    cold_page, cold_treasury = out["rows"][-3]["ms"], out["rows"][-2]["ms"]
    out["rows"].append(
        {
            "label": "  the page then its treasury, cold (sum of the two above)",
            "ms": cold_page + cold_treasury,
            "q": out["rows"][-3]["q"] + out["rows"][-2]["q"],
            "extra": "what the agent waits for the whole page",
            "no_aim": True,
        }
    )


def _apply_row(out: dict, scenario) -> None:
    """The État's application of the draft, once, in a transaction rolled back."""
    from django.db import connection, transaction

    from cases.models import User
    from cases.services import scenarios as services

    role = User.Role.FUNDER_INSTRUCTOR
    instructor = User.objects.filter(role=role, funder__code="ETAT").first()
    if instructor is None:
        from schemes.models import Funder

        instructor = User.objects.create(
            username="bench.instructeur.etat",
            role=role,
            funder=Funder.objects.get(code="ETAT"),
        )
    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    items = scenario.items.count()
    with transaction.atomic():
        t = time.perf_counter()
        with connection.execute_wrapper(counter):
            report = services.scenario_apply(actor=instructor, scenario=scenario)
        ms = (time.perf_counter() - t) * 1000
        transaction.set_rollback(True)
    out["rows"].append(
        {
            "label": "scenario: applied by the État (once, rolled back)",
            "ms": ms,
            "q": count[0],
            "extra": f"{report['applied']} applied, {report['refused']} refused, "
            f"{report['postponed']} postponed, {count[0] / max(1, items):.1f} statements "
            "per item",
            "no_aim": True,
        }
    )
