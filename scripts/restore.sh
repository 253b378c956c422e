#!/usr/bin/env bash
# Guichet — restore a backup made by scripts/backup.sh.
#
#   DATABASE_URL=postgres://guichet:…@db:5432/guichet MEDIA_ROOT=/data/media \
#   bash scripts/restore.sh /var/backups/guichet/guichet-20261125T020000Z
#
# 1. checks the SHA256SUMS of the backup (and decrypts *.gpg files with the gpg key of
#    the machine doing the restore, into a temporary directory);
# 2. restores db.dump into DATABASE_URL — which must exist and be EMPTY (a new database:
#    `createdb guichet_restored`), unless --force, which drops the objects it replaces
#    (pg_restore --clean --if-exists); the restore is one transaction: all or nothing;
# 3. unpacks media.tar.gz into MEDIA_ROOT — which must be empty or absent, unless --force
#    (files are then overwritten, none deleted).
# Stop the web, worker and beat processes first when restoring over a live database.
# Afterwards: `python manage.py migrate` (a no-op for a backup of the same version; it
# brings an older backup up to the code) and start the services.
#
# Optional: PG_BIN=/usr/lib/postgresql/15/bin, --no-media (database only).
set -euo pipefail
umask 077

force=0
media=1
src=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --no-media) media=0 ;;
    -h | --help)
      sed -n '2,19p' "$0"
      exit 0
      ;;
    *) src="$arg" ;;
  esac
done
[ -n "$src" ] || { echo "usage: restore.sh [--force] [--no-media] BACKUP_DIRECTORY" >&2; exit 2; }
[ -d "$src" ] || { echo "restore: $src is not a backup directory" >&2; exit 2; }
: "${DATABASE_URL:?DATABASE_URL must name the database to restore into}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MEDIA_ROOT="${MEDIA_ROOT:-$HERE/media}"
PG_RESTORE="${PG_BIN:+$PG_BIN/}pg_restore"
PSQL="${PG_BIN:+$PG_BIN/}psql"

log() { printf '%s restore: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

log "checking checksums"
(cd "$src" && sha256sum --quiet --check SHA256SUMS)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dump="$src/db.dump"
archive="$src/media.tar.gz"
if [ -f "$src/db.dump.gpg" ]; then
  log "decrypting"
  gpg --batch --quiet --output "$tmp/db.dump" --decrypt "$src/db.dump.gpg"
  dump="$tmp/db.dump"
  if [ -f "$src/media.tar.gz.gpg" ]; then
    gpg --batch --quiet --output "$tmp/media.tar.gz" --decrypt "$src/media.tar.gz.gpg"
    archive="$tmp/media.tar.gz"
  fi
fi
[ -f "$dump" ] || { echo "restore: no db.dump in $src" >&2; exit 2; }

tables="$("$PSQL" --dbname="$DATABASE_URL" --no-psqlrc --tuples-only --no-align --command \
  "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
clean=()
if [ "$tables" != "0" ]; then
  if [ "$force" != 1 ]; then
    echo "restore: the target database has $tables tables; restore into a new empty" \
      "database, or pass --force to replace its content" >&2
    exit 3
  fi
  clean=(--clean --if-exists)
fi

log "database ← $(basename "$dump")"
"$PG_RESTORE" --no-owner --no-privileges --exit-on-error --single-transaction \
  "${clean[@]}" --dbname="$DATABASE_URL" "$dump"

if [ "$media" = 1 ] && [ -f "$archive" ]; then
  mkdir -p "$MEDIA_ROOT"
  if [ -n "$(ls -A "$MEDIA_ROOT")" ] && [ "$force" != 1 ]; then
    echo "restore: $MEDIA_ROOT is not empty (database restored; documents not)." \
      "Empty it or pass --force" >&2
    exit 4
  fi
  log "documents ← media.tar.gz into $MEDIA_ROOT"
  tar -C "$MEDIA_ROOT" -xzf "$archive" --no-same-owner
elif [ "$media" = 1 ]; then
  log "no media archive in the backup (GUICHET_STORAGE=s3 at backup time?)"
fi
log "done; now run: python manage.py migrate && start the services"
