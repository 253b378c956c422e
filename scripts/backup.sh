#!/usr/bin/env bash
# Guichet — backup of the database and of the uploaded documents.
#
#   DATABASE_URL=postgres://guichet:…@db:5432/guichet MEDIA_ROOT=/data/media \
#   BACKUP_DIR=/var/backups/guichet bash scripts/backup.sh
#
# Writes one directory per run, BACKUP_DIR/guichet-<UTC timestamp>/, containing
#   db.dump        pg_dump custom format (compressed; restore with scripts/restore.sh)
#   media.tar.gz   the documents (MEDIA_ROOT), when GUICHET_STORAGE is local
#   MANIFEST       what, when, from where (no password), versions
#   SHA256SUMS     checksums of the files above, checked by restore.sh
# The directory appears complete or not at all (written as .partial, then renamed).
# Files older than BACKUP_RETENTION_DAYS (30) are deleted afterwards — only complete
# backups this script made (guichet-* directories), and never the one just written.
#
# Optional:
#   BACKUP_GPG_RECIPIENT=<key id>  encrypt every file with gpg (public key only here: the
#                                  private key stays off the server, with the offsite copy)
#   BACKUP_RETENTION_DAYS=30       0 keeps everything
#   PG_BIN=/usr/lib/postgresql/15/bin   where pg_dump lives (default: PATH)
#   GUICHET_STORAGE=s3             documents are in a bucket: not copied here (use the
#                                  bucket's versioning / replication, see docs/deployment.md)
# Exit status: 0 on success; any failure stops the script (set -e) and leaves no
# half-written backup behind.
set -euo pipefail
umask 077

: "${DATABASE_URL:?DATABASE_URL must name the database to back up}"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/guichet}"
RETENTION="${BACKUP_RETENTION_DAYS:-30}"
STORAGE="${GUICHET_STORAGE:-local}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MEDIA_ROOT="${MEDIA_ROOT:-$HERE/media}"
PG_DUMP="${PG_BIN:+$PG_BIN/}pg_dump"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="guichet-$stamp"
mkdir -p "$BACKUP_DIR"
work="$BACKUP_DIR/.$name.partial"
rm -rf "$work"
mkdir "$work"
trap 'rm -rf "$work"' EXIT

log() { printf '%s backup: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# libpq reads postgres:// and postgresql:// URLs; Django's dj-database-url adds nothing
# libpq would not understand for a plain URL.
log "database → db.dump"
"$PG_DUMP" --format=custom --compress=6 --no-owner --no-privileges \
  --dbname="$DATABASE_URL" --file="$work/db.dump"

if [ "$STORAGE" = "local" ]; then
  if [ -d "$MEDIA_ROOT" ]; then
    log "documents $MEDIA_ROOT → media.tar.gz"
    tar -C "$MEDIA_ROOT" -czf "$work/media.tar.gz" .
  else
    log "no $MEDIA_ROOT: empty media archive"
    tar -czf "$work/media.tar.gz" -T /dev/null
  fi
else
  log "GUICHET_STORAGE=$STORAGE: documents stay in the bucket (versioned/replicated there)"
fi

# Where from, without the password.
safe_url="$(printf '%s' "$DATABASE_URL" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#')"
{
  echo "guichet backup $stamp"
  echo "database: $safe_url"
  echo "storage: $STORAGE${MEDIA_ROOT:+ ($MEDIA_ROOT)}"
  echo "pg_dump: $("$PG_DUMP" --version)"
  if command -v git >/dev/null 2>&1 && git -C "$HERE" rev-parse HEAD >/dev/null 2>&1; then
    echo "code: $(git -C "$HERE" rev-parse HEAD)"
  fi
} >"$work/MANIFEST"

if [ -n "${BACKUP_GPG_RECIPIENT:-}" ]; then
  log "encrypting for $BACKUP_GPG_RECIPIENT"
  for f in "$work"/db.dump "$work"/media.tar.gz; do
    [ -f "$f" ] || continue
    gpg --batch --yes --trust-model always --recipient "$BACKUP_GPG_RECIPIENT" \
      --output "$f.gpg" --encrypt "$f"
    rm -f "$f"
  done
fi

(cd "$work" && sha256sum -- $(ls | grep -v '^SHA256SUMS$') >SHA256SUMS)
mv "$work" "$BACKUP_DIR/$name"
trap - EXIT
log "written $BACKUP_DIR/$name ($(du -sh "$BACKUP_DIR/$name" | cut -f1))"

if [ "$RETENTION" -gt 0 ] 2>/dev/null; then
  find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name 'guichet-*' \
    ! -name "$name" -mtime +"$RETENTION" -print -exec rm -rf {} + |
    sed 's/^/retention: deleted /' >&2
fi
echo "$BACKUP_DIR/$name"
