"""Child process of ``test_postgres_restart``: builds dossiers, then applies a run of
transitions through ``transition_apply`` while the test restarts PostgreSQL under it.

A transition that fails on a lost connection (OperationalError / InterfaceError) is
retried once the server is back, after re-reading the object: if its state already moved,
the commit had gone through before the connection died and nothing is applied twice.

Usage: python -m tests.faults.pg_child N PROGRESS_FILE   (DATABASE_URL set by the test)
"""

from __future__ import annotations

import json
import sys
import time

import django


def main(count: int, progress_path: str) -> None:
    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import InterfaceError, OperationalError, close_old_connections

    from cases import services
    from cases.models import Case, FundingRequest, Organisation, User
    from engine.transitions import transition_apply
    from schemes.models import Funder, Scheme

    org = Organisation.objects.create(name="Commune de Cordes-sur-Ciel", kind="commune")
    porteur = User.objects.create(username="porteur", role="porteur", organisation=org)
    agent = User.objects.create(username="agent", role="agent", email="agent@example.org")
    instructor = User.objects.create(
        username="prefecture", role="funder_instructor", funder=Funder.objects.get(code="ETAT")
    )
    codes = Scheme.objects.get(code="DETR").required_document_codes()
    case_ids = []
    for i in range(count):
        case = services.case_create(
            actor=porteur,
            data={
                "title": f"Travaux n° {i}",
                "state": "draft",
                "financing_plan": {
                    "expenses": [{"label": "Travaux", "amount": "100000.00"}],
                    "resources": [
                        {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
                        {"kind": "self", "amount": "60000.00"},
                    ],
                },
            },
        )
        for code in codes:
            services.document_upload(
                actor=porteur,
                case=case,
                kind=code,
                upload=SimpleUploadedFile(f"{code}.pdf", b"%PDF-1.4\n%test\n"),
            )
        case_ids.append(case.pk)

    stats = {"applied": 0, "already": 0, "retries": 0}

    def step(model, pk, name, source, actor, data=None):
        for _ in range(600):
            close_old_connections()  # as at the start of each request or task
            try:
                obj = model.objects.get(pk=pk)
                if obj.state != source:
                    stats["already"] += 1  # committed before the connection was lost
                    return
                transition_apply(instance=obj, name=name, actor=actor, data=data)
                stats["applied"] += 1
                return
            except (OperationalError, InterfaceError):
                stats["retries"] += 1
                time.sleep(0.1)
        raise RuntimeError(f"{name} on {pk}: the database never came back")

    done = 0
    for pk in case_ids:
        step(Case, pk, "submit", "draft", porteur)
        step(Case, pk, "declare_complete", "submitted", agent)
        fr_id = None
        while fr_id is None:
            try:
                fr_id = FundingRequest.objects.get(case_id=pk).pk
            except (OperationalError, InterfaceError):
                stats["retries"] += 1
                close_old_connections()
                time.sleep(0.1)
        step(FundingRequest, fr_id, "start_instruction", "requested", instructor)
        step(
            FundingRequest,
            fr_id,
            "grant",
            "instructing",
            instructor,
            {"amount_granted": "40000.00"},
        )
        done += 1
        with open(progress_path, "w") as fh:
            fh.write(str(done))
        time.sleep(0.03)  # leave the test a window to restart the server mid-run
    print(json.dumps({"cases": case_ids, **stats}))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
