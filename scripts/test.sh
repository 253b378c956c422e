#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what it needs (Debian packages:
# PostgreSQL, Redis, Chromium, npm — only those missing), starts the services that are not
# running, then lint, migrations check, and pytest on PostgreSQL and then on SQLite.
#
#   bash scripts/test.sh                       everything, both databases
#   TEST_DATABASES=sqlite bash scripts/test.sh one database (postgres | sqlite | both)
#   bash scripts/test.sh tests/demo -q         these pytest arguments, on each database
set -euo pipefail
cd "$(dirname "$0")/.."

DATABASES_TO_TEST="${TEST_DATABASES:-both}"
case "$DATABASES_TO_TEST" in
  both) WITH_PG=1 WITH_SQLITE=1 ;;
  postgres | postgresql | pg) WITH_PG=1 WITH_SQLITE=0 ;;
  sqlite) WITH_PG=0 WITH_SQLITE=1 ;;
  *) echo "TEST_DATABASES=$DATABASES_TO_TEST : postgres, sqlite ou both" >&2; exit 2 ;;
esac
PG_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_LOCAL=0
case "$PG_URL" in *@127.0.0.1:5432/* | *@localhost:5432/* | *@127.0.0.1/* | *@localhost/*) PG_LOCAL=1 ;; esac
WITH_BROWSER="$WITH_PG"  # the browser tests run on PostgreSQL only
[ "$#" -eq 0 ] || WITH_BROWSER=0

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
APT_UPDATED=0
apt_install() {  # Debian's packages, never a download from elsewhere
  command -v apt-get >/dev/null || { echo "apt-get introuvable : installez $* vous-même" >&2; return 1; }
  if [ "$APT_UPDATED" -eq 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x .venv/bin/python ]; then
  python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"

# Browser tests: Debian's Chromium (never a browser download), axe-core and the local
# OpenID Connect provider of the ProConnect tests (oidc-provider) from npm.
if [ "$WITH_BROWSER" -eq 1 ]; then
  [ -x /usr/bin/chromium ] || apt_install chromium fonts-dejavu-core
  if [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/oidc-provider/package.json ]; then
    command -v npm >/dev/null || apt_install npm
    npm install --no-audit --no-fund --silent
  fi
fi

# PostgreSQL on 127.0.0.1:5432: installed from Debian's packages if absent, started if
# stopped. A cluster this script creates trusts local TCP connections (a test server).
if [ "$WITH_PG" -eq 1 ] && [ "$PG_LOCAL" -eq 1 ] && ! listening 5432; then
  FRESH_PG=0
  if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    apt_install postgresql
    FRESH_PG=1
  fi
  PG_VERSION="$(ls /usr/lib/postgresql | sort -n | tail -n1)"
  if [ ! -d "/etc/postgresql/$PG_VERSION/main" ]; then
    $SUDO pg_createcluster "$PG_VERSION" main >/dev/null
    FRESH_PG=1
  fi
  if [ "$FRESH_PG" -eq 1 ]; then
    HBA="/etc/postgresql/$PG_VERSION/main/pg_hba.conf"
    $SUDO sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$HBA"
  fi
  if listening 5432; then  # the package's own start script may have started it
    [ "$FRESH_PG" -eq 0 ] || $SUDO pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main reload
  else
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start || true
  fi
  for _ in $(seq 1 30); do listening 5432 && break; sleep 1; done
fi

# Redis on 127.0.0.1:6379 (Celery's broker in the tests): installed and started likewise.
if ! listening 6379; then
  command -v redis-server >/dev/null || apt_install redis-server
  listening 6379 ||
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 10); do listening 6379 && break; sleep 1; done
fi

export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/9}"
export SECRET_KEY="test-secret-key"
SQLITE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/guichet-test-sqlite.XXXXXX")"
trap 'rm -rf "$SQLITE_DIR"' EXIT

.venv/bin/ruff check .
.venv/bin/ruff format --check .
DATABASE_URL="sqlite:///$SQLITE_DIR/migrations.sqlite3" \
  .venv/bin/python manage.py makemigrations --check --dry-run

# Each pass reports; the script fails if any did, after running them all.
FAILED=()
on_postgres() { DATABASE_URL="$PG_URL" .venv/bin/python -m pytest -p no:cacheprovider "$@"; }
# SQLite: a file database (threads and transactional tests need one, not :memory:). The
# fuzzers explore less there (10 examples per route instead of 25): the production
# database is PostgreSQL, where they explore fully; SQLite checks the same answers.
on_sqlite() {
  GUICHET_FUZZ_EXAMPLES="${GUICHET_FUZZ_EXAMPLES_SQLITE:-10}" \
    DATABASE_URL="sqlite:///$SQLITE_DIR/guichet.sqlite3" \
    TEST_DATABASE_NAME="$SQLITE_DIR/test_guichet.sqlite3" \
    .venv/bin/python -m pytest -p no:cacheprovider "$@"
}
run_pass() {  # run_pass <label> <command...>
  local label="$1" start=$SECONDS
  shift
  echo "=== $label"
  "$@" || FAILED+=("$label")
  echo "=== $label: $((SECONDS - start)) s"
}

if [ "$#" -gt 0 ]; then
  [ "$WITH_PG" -eq 0 ] || run_pass "PostgreSQL" on_postgres "$@"
  [ "$WITH_SQLITE" -eq 0 ] || run_pass "SQLite" on_sqlite "$@"
else
  # The browser tests run in a session of their own: Playwright's event loop must not
  # live beside the other tests' database handling.
  # With both databases, two streams share the two cores: the PostgreSQL pass in front,
  # and beside it the SQLite pass then the browser tests (on PostgreSQL, a test database
  # of their own). Each stream has its own Redis database for its Celery worker; the
  # second stream's output is kept in a file and printed when it ends.
  SECOND_PID=""
  if [ "$WITH_SQLITE" -eq 1 ] && [ "$WITH_PG" -eq 1 ]; then
    (
      rc=0
      start=$SECONDS
      REDIS_URL="${TEST_REDIS_URL_SQLITE:-redis://127.0.0.1:6379/10}" \
        on_sqlite --ignore=tests/browser -q >"$SQLITE_DIR/second.log" 2>&1 || rc=1
      echo "=== SQLite: $((SECONDS - start)) s" >>"$SQLITE_DIR/second.log"
      [ "$rc" -eq 0 ] || echo "=== SQLite: ÉCHEC" >>"$SQLITE_DIR/second.log"
      if [ "$WITH_BROWSER" -eq 1 ]; then
        start=$SECONDS
        REDIS_URL="${TEST_REDIS_URL_BROWSER:-redis://127.0.0.1:6379/11}" \
          TEST_DATABASE_NAME="${TEST_DATABASE_NAME:-test_guichet}_browser" \
          on_postgres tests/browser >>"$SQLITE_DIR/second.log" 2>&1 || rc=$((rc + 2))
        echo "=== PostgreSQL, browser: $((SECONDS - start)) s" >>"$SQLITE_DIR/second.log"
      fi
      exit "$rc"
    ) &
    SECOND_PID=$!
  fi
  [ "$WITH_PG" -eq 0 ] || run_pass "PostgreSQL" on_postgres --ignore=tests/browser
  if [ -n "$SECOND_PID" ]; then
    echo "=== SQLite, then the browser tests (run beside PostgreSQL)"
    rc=0
    wait "$SECOND_PID" || rc=$?
    tail -n 600 "$SQLITE_DIR/second.log"
    [ $((rc & 1)) -eq 0 ] || FAILED+=("SQLite")
    [ $((rc & 2)) -eq 0 ] || FAILED+=("PostgreSQL, browser")
  else
    [ "$WITH_BROWSER" -eq 0 ] || run_pass "PostgreSQL, browser" on_postgres tests/browser
    [ "$WITH_SQLITE" -eq 0 ] || run_pass "SQLite" on_sqlite --ignore=tests/browser
  fi
fi
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "Échec : ${FAILED[*]}" >&2
  exit 1
fi
