"""Settings for Guichet, read from the environment (12-factor).

DATABASE_URL   default: sqlite:///<project>/db.sqlite3 (demo only; PostgreSQL in production)
REDIS_URL      default: redis://127.0.0.1:6379/0
SECRET_KEY     required when DEBUG is off
DEBUG          "1" to enable
ALLOWED_HOSTS  comma-separated
GUICHET_SQLITE_TIMEOUT  seconds a SQLite writer waits for the lock (default 20), then 409
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "insecure-dev-key-change-me" if DEBUG or os.environ.get("GUICHET_DEV") else None
)
if not SECRET_KEY:
    SECRET_KEY = "insecure-dev-key-change-me"  # noqa: S105 - overridden in production via env
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_fsm_log",
    "viewflow",
    "viewflow.workflow",
    "engine",
    "schemes",
    "cases",
    "workflows",
    "notifications",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # a write that lost a race for the database: 409 « réessayez », not 500
    "guichet.concurrency.WriteConflictMiddleware",
]

ROOT_URLCONF = "guichet.urls"
WSGI_APPLICATION = "guichet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.territory",
                "web.context_processors.notification_badge",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
        conn_health_checks=True,  # a connection broken by a database restart is replaced
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get(
        "TEST_DATABASE_NAME", "test_guichet"
    )
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite (the demo) with concurrent requests: WAL lets readers run beside the one
    # writer; every transaction takes the write lock when it begins (IMMEDIATE), so two
    # writers queue for up to `timeout` seconds instead of failing when a read lock is
    # upgraded. A write that still times out answers 409 (guichet.api.exceptions,
    # guichet.middleware), never 500.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": int(os.environ.get("GUICHET_SQLITE_TIMEOUT", "20")),
        }
    )
    # Tests on SQLite use a file (threads and transactional tests need a real database,
    # not :memory:): TEST_DATABASE_NAME, a path or a bare name under the temp directory.
    _test_name = os.environ.get("TEST_DATABASE_NAME", "test_guichet")
    if os.sep not in _test_name:
        import tempfile

        _test_name = str(Path(tempfile.gettempdir()) / f"{_test_name}.sqlite3")
    DATABASES["default"].setdefault("TEST", {})["NAME"] = _test_name

AUTH_USER_MODEL = "cases.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
# French only until an English catalogue exists: offering « en » gave a French page with
# English numbers and dates (« 88,524.00 € ») to a browser set to English.
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# ========================================================= media storage and scale-out
# Where uploaded documents live (owned by the ops/scale-out work, see docs/deployment.md).
# GUICHET_STORAGE=local (default): files under MEDIA_ROOT — one server, or a volume
# shared by every web/worker replica. GUICHET_STORAGE=s3: any S3-compatible bucket
# (Scaleway, OVHcloud, Outscale, MinIO, AWS) through django-storages, so that web and
# worker replicas need no shared disk. Documents stay private either way: no public ACL,
# no signed URL handed out (querystring_auth off); every download goes through the
# application's permission check (web.documents), which streams the file.
GUICHET_STORAGE = os.environ.get("GUICHET_STORAGE", "local").strip().lower()


def media_storage(env=os.environ) -> dict:
    """The ``STORAGES["default"]`` entry for ``GUICHET_STORAGE`` (a function so that the
    tests can check the S3 configuration without a network)."""
    from django.core.exceptions import ImproperlyConfigured

    kind = env.get("GUICHET_STORAGE", "local").strip().lower()
    if kind == "local":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if kind != "s3":
        raise ImproperlyConfigured(f"GUICHET_STORAGE={kind!r} : « local » ou « s3 ».")

    def first(*names, default=None):
        for name in names:
            if env.get(name):
                return env[name]
        return default

    bucket = first("AWS_STORAGE_BUCKET_NAME", "S3_BUCKET")
    if not bucket:
        raise ImproperlyConfigured("GUICHET_STORAGE=s3 : AWS_STORAGE_BUCKET_NAME (ou S3_BUCKET).")
    options = {
        "bucket_name": bucket,
        "endpoint_url": first("AWS_S3_ENDPOINT_URL", "S3_ENDPOINT_URL"),
        "region_name": first("AWS_S3_REGION_NAME", "S3_REGION"),
        "location": first("AWS_LOCATION", "S3_PREFIX", default="guichet"),
        # Private objects, and no pre-signed URL ever leaves the application.
        "default_acl": "private",
        "querystring_auth": False,
        "file_overwrite": False,
        # Server-side encryption where the provider supports it (S3_SSE=1).
        "object_parameters": {"ServerSideEncryption": "AES256"}
        if env.get("S3_SSE", "0").lower() in {"1", "true", "yes", "on"}
        else {},
        "addressing_style": first("AWS_S3_ADDRESSING_STYLE", "S3_ADDRESSING_STYLE"),
        "signature_version": "s3v4",
        "max_memory_size": 2 * 1024 * 1024,
    }
    # Credentials: explicit keys, or boto3's own chain (instance role, ~/.aws) if absent.
    access_key = first("AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID", "S3_ACCESS_KEY")
    secret_key = first("AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", "S3_SECRET_KEY")
    if access_key and secret_key:
        options["access_key"] = access_key
        options["secret_key"] = secret_key
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {k: v for k, v in options.items() if v is not None},
    }


STORAGES = {
    "default": media_storage(),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Scale: PostgreSQL's JIT compiler spends 0.1–1 s compiling any plan whose estimated cost
# passes jit_above_cost (e.g. the case list filtered by scheme on 100,000 dossiers: 0.86 s
# of JIT for 0.15 s of work, bench/load.py) and gains nothing on short web queries. Off
# for the application's connections; GUICHET_PG_JIT=1 keeps the server's setting.
if DATABASES["default"]["ENGINE"].endswith("postgresql") and not env_bool("GUICHET_PG_JIT"):
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
# ===================================================== end media storage and scale-out
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The requests' covering indexes (``Index(include=…)``) let PostgreSQL answer from the index
# alone; SQLite, the demo's database, builds the same indexes without the included
# columns, as intended (the check's own hint): no warning at each migrate of the demo.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Uploads (documents of a dossier)
GUICHET_MAX_UPLOAD_BYTES = int(os.environ.get("GUICHET_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
# issue 15 point 3: the PETR's signing certificate (PKCS#12) and its own document
# templates (convention.docx/.html, notification.docx/.html); README « Documents signés »
GUICHET_SIGNING_P12 = os.environ.get("GUICHET_SIGNING_P12", "")
GUICHET_SIGNING_P12_PASSWORD = os.environ.get("GUICHET_SIGNING_P12_PASSWORD", "")
GUICHET_DOCUMENT_TEMPLATES_DIR = os.environ.get("GUICHET_DOCUMENT_TEMPLATES_DIR", "")
DATA_UPLOAD_MAX_MEMORY_SIZE = GUICHET_MAX_UPLOAD_BYTES + 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "guichet.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Guichet API",
    "DESCRIPTION": "Guichet unique des aides publiques d'un territoire rural (API v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "CaseStateEnum": "cases.models.CaseState",
        "RequestStateEnum": "cases.models.RequestState",
        "ClaimStateEnum": "cases.models.ClaimState",
        "SessionStateEnum": "cases.models.SessionState",
        "DeadlineStateEnum": "engine.models.Deadline.State",
        "OrganisationKindEnum": "cases.models.Organisation.Kind",
        "ClaimKindEnum": "cases.models.PaymentClaim.Kind",
        "OpinionKindEnum": "cases.models.Opinion.Kind",
        # The plan's basis and each line's tax share one choice set (revised rule 10).
        "TaxBasisEnum": "cases.models.ExpenseLine.Tax",
    },
}

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
# Without a broker configured (the embedded demo), tasks run in-process.
CELERY_TASK_ALWAYS_EAGER = env_bool(
    "CELERY_TASK_ALWAYS_EAGER", "DATABASE_URL" not in os.environ and "REDIS_URL" not in os.environ
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # An unacknowledged task (worker killed) is delivered again after this many seconds.
    "visibility_timeout": int(os.environ.get("GUICHET_BROKER_VISIBILITY_TIMEOUT", "3600")),
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE = {
    # One pass of everything periodic: expiries, outbox, reminders, alerts.
    "sweep": {"task": "notifications.periodic_sweep", "schedule": 300.0},
    "outbox": {"task": "notifications.relay_outbox", "schedule": 60.0},
    "daily-digest": {
        "task": "notifications.daily_digest",
        "schedule": crontab(hour=7, minute=0),
    },
    "weekly-digest": {
        "task": "notifications.weekly_digest",
        "schedule": crontab(hour=7, minute=15, day_of_week="monday"),
    },
}

# Reminders and alerts
GUICHET_REMINDER_CATCHUP_DAYS = int(os.environ.get("GUICHET_REMINDER_CATCHUP_DAYS", "3"))
GUICHET_TREASURY_EUR_PER_INHABITANT = int(
    os.environ.get("GUICHET_TREASURY_EUR_PER_INHABITANT", "150")
)
# The treasury forecast's parameters (issue 13, cases/treasury.py).
GUICHET_FCTVA_RATE = os.environ.get("GUICHET_FCTVA_RATE", "0.16404")
GUICHET_FCTVA_MONTH = int(os.environ.get("GUICHET_FCTVA_MONTH", "5"))
GUICHET_VAT_RATE = os.environ.get("GUICHET_VAT_RATE", "0.20")
GUICHET_TREASURY_P80_FACTOR = os.environ.get("GUICHET_TREASURY_P80_FACTOR", "1.5")
GUICHET_TREASURY_WORKS_MONTHS = int(os.environ.get("GUICHET_TREASURY_WORKS_MONTHS", "12"))
GUICHET_TREASURY_BALANCE_LAG_DAYS = int(os.environ.get("GUICHET_TREASURY_BALANCE_LAG_DAYS", "30"))
GUICHET_BRIDGING_LOAN_RATE = os.environ.get("GUICHET_BRIDGING_LOAN_RATE", "4.00")
# The public company register (« API Recherche d'entreprises », issue 15): an empty URL
# turns the SIREN / SIRET look-up off (the intake then asks for the organisation by hand).
GUICHET_COMPANY_REGISTER_URL = os.environ.get(
    "GUICHET_COMPANY_REGISTER_URL", "https://recherche-entreprises.api.gouv.fr"
)
GUICHET_COMPANY_REGISTER_TIMEOUT = float(os.environ.get("GUICHET_COMPANY_REGISTER_TIMEOUT", "3"))
GUICHET_COMPANY_REGISTER_CACHE_SECONDS = int(
    os.environ.get("GUICHET_COMPANY_REGISTER_CACHE_SECONDS", "86400")
)
# LEADER programme health (issue 14, cases/programme_health.py): the last programming date
# is so many months before the programme's end; the unprogrammed remainder counts at risk
# so many months before it; the alert fires above this share of the action sheet's target.
GUICHET_PROGRAMMING_LEAD_MONTHS = int(os.environ.get("GUICHET_PROGRAMMING_LEAD_MONTHS", "24"))
GUICHET_PROGRAMMING_WARNING_MONTHS = int(os.environ.get("GUICHET_PROGRAMMING_WARNING_MONTHS", "12"))
GUICHET_PROGRAMME_RISK_SHARE = os.environ.get("GUICHET_PROGRAMME_RISK_SHARE", "0.10")
GUICHET_SITE_URL = os.environ.get("GUICHET_SITE_URL", "http://127.0.0.1:8000")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "guichet@pole-albigeois-bastides.fr")

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# ============================================================================== security
# Hardening (owned by guichet/security.py). One explicit switch: GUICHET_PRODUCTION=1
# turns on everything a deployment behind TLS needs and refuses to start without a real
# SECRET_KEY and explicit ALLOWED_HOSTS. Development, the demo and the tests leave it off.
from datetime import timedelta  # noqa: E402

from django.core.exceptions import ImproperlyConfigured  # noqa: E402

GUICHET_PRODUCTION = env_bool("GUICHET_PRODUCTION", False)

INSTALLED_APPS += ["axes", "drf_spectacular_sidecar"]
# Security headers (CSP, Permissions-Policy…) right after Django's SecurityMiddleware;
# axes last, as its documentation requires, to turn a lockout into a French answer.
MIDDLEWARE.insert(1, "guichet.security.SecurityHeadersMiddleware")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
TEMPLATES[0]["OPTIONS"]["context_processors"].append("guichet.security.csp_nonce")

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out username + IP first
    "django.contrib.auth.backends.ModelBackend",
    # ProConnect (OpenID Connect): acts only on its own callback, when GUICHET_OIDC_ENABLED
    "web.proconnect.ProConnectBackend",
]

# ProConnect / OpenID Connect login (issue 15, docs/adr/012, README « ProConnect »). The
# endpoints come from the provider's discovery document (GUICHET_OIDC_ISSUER +
# /.well-known/openid-configuration, or GUICHET_OIDC_DISCOVERY_URL) unless given one by one.
GUICHET_OIDC_ENABLED = env_bool("GUICHET_OIDC_ENABLED", False)
GUICHET_OIDC_ISSUER = os.environ.get("GUICHET_OIDC_ISSUER", "")
GUICHET_OIDC_DISCOVERY_URL = os.environ.get("GUICHET_OIDC_DISCOVERY_URL", "")
GUICHET_OIDC_CLIENT_ID = os.environ.get("GUICHET_OIDC_CLIENT_ID", "")
GUICHET_OIDC_CLIENT_SECRET = os.environ.get("GUICHET_OIDC_CLIENT_SECRET", "")
GUICHET_OIDC_SCOPES = os.environ.get(
    "GUICHET_OIDC_SCOPES", "openid email given_name usual_name siret"
)
GUICHET_OIDC_SIGN_ALGO = os.environ.get("GUICHET_OIDC_SIGN_ALGO", "RS256")
GUICHET_OIDC_ACR_VALUES = os.environ.get("GUICHET_OIDC_ACR_VALUES", "")
GUICHET_OIDC_TIMEOUT = float(os.environ.get("GUICHET_OIDC_TIMEOUT", "5"))
GUICHET_OIDC_AUTHORIZATION_ENDPOINT = os.environ.get("GUICHET_OIDC_AUTHORIZATION_ENDPOINT", "")
GUICHET_OIDC_TOKEN_ENDPOINT = os.environ.get("GUICHET_OIDC_TOKEN_ENDPOINT", "")
GUICHET_OIDC_USERINFO_ENDPOINT = os.environ.get("GUICHET_OIDC_USERINFO_ENDPOINT", "")
GUICHET_OIDC_JWKS_ENDPOINT = os.environ.get("GUICHET_OIDC_JWKS_ENDPOINT", "")
GUICHET_OIDC_END_SESSION_ENDPOINT = os.environ.get("GUICHET_OIDC_END_SESSION_ENDPOINT", "")
# The identifier + password form of /connexion/ (the admin's login is Django's own).
GUICHET_PASSWORD_LOGIN_ENABLED = env_bool("GUICHET_PASSWORD_LOGIN_ENABLED", True)

# Headers sent on every response (also in development: they cost nothing).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Login brute force (django-axes): N failures per username + IP lock that pair out for
# the cool-off period; a success resets the counter.
AXES_FAILURE_LIMIT = int(os.environ.get("GUICHET_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("GUICHET_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "guichet.security.lockout_response"
# The client's address: REMOTE_ADDR, or with N trusted reverse proxies in front the N-th
# address from the right of X-Forwarded-For (what the outermost proxy saw); never the
# leftmost, which the client writes itself and would use to dodge the lockouts.
GUICHET_PROXY_COUNT = int(os.environ.get("GUICHET_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "guichet.security.client_ip"
AXES_USERNAME_CALLABLE = "guichet.security.login_username"
AXES_WHITELIST_CALLABLE = "guichet.security.not_a_password_login"  # ProConnect's callback
AXES_VERBOSE = False

# Requests larger than this are refused (413) before Django reads their body.
GUICHET_MAX_REQUEST_BYTES = GUICHET_MAX_UPLOAD_BYTES + 1024 * 1024

# The API docs are served from our own static files (no CDN), with their script split
# out of the page so that the Content-Security-Policy needs no inline script.
SPECTACULAR_SETTINGS.update(
    {
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
    }
)

if GUICHET_PRODUCTION:
    _secret = os.environ.get("SECRET_KEY", "")
    if len(_secret) < 50 or len(set(_secret)) < 5 or _secret.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "GUICHET_PRODUCTION=1 : SECRET_KEY doit être défini (50 caractères aléatoires au "
            "moins)."
        )
    SECRET_KEY = _secret
    if DEBUG:
        raise ImproperlyConfigured("GUICHET_PRODUCTION=1 : DEBUG doit valoir 0.")
    if not os.environ.get("ALLOWED_HOSTS") or "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "GUICHET_PRODUCTION=1 : ALLOWED_HOSTS doit nommer les hôtes servis (pas « * »)."
        )
    SECURE_SSL_REDIRECT = env_bool("GUICHET_SSL_REDIRECT", True)
    # The reverse proxy terminates TLS and says so in this header (nginx:
    # proxy_set_header X-Forwarded-Proto $scheme;). Never trust it without a proxy.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [
        f"https://*{h}" if h.startswith(".") else f"https://{h}" for h in ALLOWED_HOSTS
    ]
    SESSION_COOKIE_AGE = int(os.environ.get("GUICHET_SESSION_SECONDS", str(8 * 3600)))
# ========================================================================== end security
