#!/usr/bin/env bash
# Runs Guichet with its demo data on a fresh machine: no PostgreSQL or Redis needed (the
# database is the embedded SQLite file db.sqlite3). Optional: PORT (default 8000).
#   bash scripts/demo.sh            then open http://127.0.0.1:8000/
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  if command -v python3.11 >/dev/null; then python3.11 -m venv .venv; else python3 -m venv .venv; fi
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .

# The demo runs on SQLite unless DATABASE_URL says otherwise; reachable from the LAN.
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-*}"
export PORT="${PORT:-8000}"
# No e-mail leaves the demo (in-app notifications only); set EMAIL_BACKEND to
# django.core.mail.backends.console.EmailBackend to print the e-mails in this terminal.
export EMAIL_BACKEND="${EMAIL_BACKEND:-django.core.mail.backends.dummy.EmailBackend}"

.venv/bin/python manage.py migrate --no-input
.venv/bin/python manage.py load_demo
exec .venv/bin/python manage.py rundemo --port "$PORT"
