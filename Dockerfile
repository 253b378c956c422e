# Guichet — one image for web (gunicorn), worker (celery worker) and beat (celery beat).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (PDF minutes and receipts) needs Pango and HarfBuzz; fonts for French text.
# postgresql-client (15, as the server) for scripts/backup.sh and scripts/restore.sh.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
      fonts-dejavu-core shared-mime-info postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md LICENSE manage.py ./
COPY guichet/ guichet/
COPY engine/ engine/
COPY schemes/ schemes/
COPY workflows/ workflows/
COPY cases/ cases/
COPY notifications/ notifications/
COPY web/ web/
COPY templates/ templates/
COPY scripts/ scripts/
RUN pip install -e . \
 && python manage.py collectstatic --no-input \
 && useradd --create-home --uid 1000 guichet \
 && mkdir -p /data/media \
 && chown -R guichet:guichet /data /app/staticfiles

USER guichet
ENV MEDIA_ROOT=/data/media
EXPOSE 8000
# Stateless: several containers of this image can serve behind one proxy (see
# docker-compose.yml and docs/deployment.md); only MEDIA_ROOT (or the S3 bucket) is shared.
CMD ["gunicorn", "guichet.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--max-requests", "2000", "--max-requests-jitter", "200", "--access-logfile", "-"]
