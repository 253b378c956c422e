"""scripts/backup.sh then scripts/restore.sh into a fresh database: the dossiers, their
history, their documents (metadata and files) come back identical."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from cases import services
from cases.models import Case, Document
from engine.transitions import transition_apply
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
TABLES = {
    # table: ordering — every column is compared
    "cases_case": "id",
    "cases_organisation": "id",
    "cases_expenseline": "id",
    "cases_resourceline": "id",
    "cases_fundingrequest": "id",
    "cases_document": "id",
    "django_fsm_log_statelog": "id",
    "engine_deadline": "id",
    "engine_outboxevent": "id",
}
PDF = b"%PDF-1.4\n% Guichet test\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# pg_dump / pg_restore / psql: PostgreSQL's own backup tools (installed with it)
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]


def url(name: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def rows(dsn: str) -> dict[str, list[tuple]]:
    with psycopg.connect(dsn) as conn:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY {order}").fetchall()  # noqa: S608
            for t, order in TABLES.items()
        }


def make_data():
    """Two dossiers through the real services: one submitted with its documents (files on
    disk) and a request for documents, one idea; history, deadlines and events follow."""
    porteur = factories.porteur()
    agent = factories.agent()
    plan = {
        "expenses": [{"label": "Travaux", "amount": "100000.00"}],
        "resources": [
            {"kind": "scheme", "scheme": "DETR", "amount": "40000.00"},
            {"kind": "self", "amount": "60000.00"},
        ],
    }
    case = services.case_create(
        actor=porteur, data={"title": "École — toiture", "state": "draft", "financing_plan": plan}
    )
    for code in factories.scheme("DETR").required_document_codes():
        services.document_upload(
            actor=porteur,
            case=case,
            kind=code,
            upload=SimpleUploadedFile(f"{code}.pdf", PDF + code.encode(), "application/pdf"),
        )
    transition_apply(instance=case, name="submit", actor=porteur, data={"date": "2026-03-02"})
    case.refresh_from_db()
    transition_apply(
        instance=case,
        name="request_documents",
        actor=agent,
        data={"documents": ["Plan de situation"], "date": "2026-03-05"},
    )
    services.case_create(actor=porteur, data={"title": "Idée : halle du marché"})
    return case


def test_backup_then_restore_into_a_fresh_database(settings, tmp_path):
    case = make_data()
    source = url(connection.settings_dict["NAME"])
    target_name = f"{connection.settings_dict['NAME']}_restore"
    media = Path(settings.MEDIA_ROOT)
    files = {d.file.name: hashlib.sha256(d.file.read()).hexdigest() for d in Document.objects.all()}
    assert len(files) == 4 and Case.objects.get(pk=case.pk).state == "incomplete"

    backups = tmp_path / "backups"
    env = {
        **os.environ,
        "DATABASE_URL": source,
        "MEDIA_ROOT": str(media),
        "BACKUP_DIR": str(backups),
        "GUICHET_STORAGE": "local",
    }
    done = subprocess.run(
        ["bash", str(ROOT / "scripts/backup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    backup = Path(done.stdout.strip().splitlines()[-1])
    assert backup.parent == backups and backup.name.startswith("guichet-")
    assert {p.name for p in backup.iterdir()} == {
        "db.dump",
        "media.tar.gz",
        "MANIFEST",
        "SHA256SUMS",
    }
    assert "***" in (backup / "MANIFEST").read_text() or ":" not in source.split("@")[0][13:]
    assert not list(backups.glob(".*partial"))

    with psycopg.connect(url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{target_name}"')
    restored_media = tmp_path / "restored-media"
    try:
        env = {**os.environ, "DATABASE_URL": url(target_name), "MEDIA_ROOT": str(restored_media)}
        subprocess.run(
            ["bash", str(ROOT / "scripts/restore.sh"), str(backup)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        before, after = rows(source), rows(url(target_name))
        for table in TABLES:
            assert after[table] == before[table], table
        assert len(after["django_fsm_log_statelog"]) >= 2
        assert len(after["cases_document"]) == 4
        for name, digest in files.items():
            assert hashlib.sha256((restored_media / name).read_bytes()).hexdigest() == digest

        # A second restore over a database that is not empty is refused without --force…
        again = subprocess.run(
            ["bash", str(ROOT / "scripts/restore.sh"), str(backup)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 3 and "--force" in again.stderr
        # …and a corrupted backup is refused before anything is touched.
        with open(backup / "db.dump", "ab") as f:
            f.write(b"x")
        bad = subprocess.run(
            ["bash", str(ROOT / "scripts/restore.sh"), "--force", str(backup)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert bad.returncode != 0 and "db.dump" in (bad.stdout + bad.stderr)
    finally:
        with psycopg.connect(url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')


def test_retention_keeps_recent_backups_and_the_new_one(settings, tmp_path):
    backups = tmp_path / "backups"
    old = backups / "guichet-20200101T000000Z"
    old.mkdir(parents=True)
    recent = backups / "guichet-20990101T000000Z"
    recent.mkdir()
    foreign = backups / "not-a-backup"
    foreign.mkdir()
    for p in (old, foreign):
        os.utime(p, (0, 0))
    env = {
        **os.environ,
        "DATABASE_URL": url(connection.settings_dict["NAME"]),
        "MEDIA_ROOT": str(tmp_path / "no-media"),
        "BACKUP_DIR": str(backups),
        "BACKUP_RETENTION_DAYS": "30",
    }
    out = subprocess.run(
        ["bash", str(ROOT / "scripts/backup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    new = Path(out.stdout.strip().splitlines()[-1])
    assert new.is_dir() and recent.is_dir() and foreign.is_dir()
    assert not old.exists()
