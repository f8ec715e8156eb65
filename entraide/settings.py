"""Settings for entraide, read from the environment with safe development defaults.

Production sets at least ``ENTRAIDE_ENV=production``, ``SECRET_KEY``, ``DATABASE_URL`` and
``ALLOWED_HOSTS``; everything else has a default that suits the one-command demo.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ENTRAIDE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the SQLite file, uploads and exports live here


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


ENVIRONMENT = os.environ.get("ENTRAIDE_ENV", "development")
IS_PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DEBUG", not IS_PRODUCTION)
if IS_PRODUCTION:
    SECRET_KEY = os.environ["SECRET_KEY"]
else:
    SECRET_KEY = os.environ.get("SECRET_KEY", "development-only-not-secret")
# Encryption at rest (entraide/core/crypto.py): Fernet keys, comma-separated, the first one
# encrypting; and the key of the blind indexes. Production must set both; elsewhere they are
# derived from SECRET_KEY, so the demo and the tests need nothing.
if IS_PRODUCTION:
    ENTRAIDE_ENCRYPTION_KEYS = env_list("ENTRAIDE_ENCRYPTION_KEYS", "")
    ENTRAIDE_BLIND_INDEX_KEY = os.environ["ENTRAIDE_BLIND_INDEX_KEY"]
    if not ENTRAIDE_ENCRYPTION_KEYS:
        raise KeyError("ENTRAIDE_ENCRYPTION_KEYS")
else:
    from entraide.core.crypto_keys import development_keys

    ENTRAIDE_ENCRYPTION_KEYS, ENTRAIDE_BLIND_INDEX_KEY = development_keys(SECRET_KEY)
    ENTRAIDE_ENCRYPTION_KEYS = env_list(
        "ENTRAIDE_ENCRYPTION_KEYS", ",".join(ENTRAIDE_ENCRYPTION_KEYS)
    )
    ENTRAIDE_BLIND_INDEX_KEY = os.environ.get("ENTRAIDE_BLIND_INDEX_KEY", ENTRAIDE_BLIND_INDEX_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if IS_PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "entraide.core",
    "entraide.accounts",
    "entraide.audit",
    "entraide.programmes",
    "entraide.funds",
    "entraide.applications",
    "entraide.evidence",
    "entraide.review",
    "entraide.rules",
    "entraide.intake",
    "entraide.payments",
    "entraide.integrity",
    "entraide.crew",
    "entraide.reporting",
    "entraide.privacy",
    "entraide.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "entraide.core.request_id.RequestIdMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "entraide.accounts.middleware.SessionSecurityMiddleware",
    "entraide.core.middleware.DomainErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

if IS_PRODUCTION:
    # Static files straight from the app server; in development runserver serves them.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "entraide.urls"
WSGI_APPLICATION = "entraide.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "entraide" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "entraide.funds.context_processors.back_office",
            ],
        },
    },
]

# SQLite (one file, WAL) is the embedded default; DATABASE_URL switches to PostgreSQL.
DEFAULT_SQLITE_PATH = VAR_DIR / "entraide.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}"),
        # Reusing a connection saves a PostgreSQL backend start on every request (4x the
        # throughput of a one-row insert in bench/intake.py); checked before each reuse.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60" if IS_PRODUCTION else "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of
        # failing with "database is locked" half-way through a transaction.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: people log in with their e-mail address, which they must verify.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "entraide"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "entraide" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
# entraide/static is not an app's static folder, so the finders (and collectstatic) need it named.
STATICFILES_DIRS = [BASE_DIR / "entraide" / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
EXPORTS_DIR = VAR_DIR / "exports"
# Applicants' documents: outside the web root, served only through a permission-checked view.
DOCUMENTS_DIR = Path(os.environ.get("ENTRAIDE_DOCUMENTS_DIR", VAR_DIR / "documents"))
DOCUMENT_MAX_BYTES = int(os.environ.get("ENTRAIDE_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024))
# A virus scanner command run by the worker on every document (e.g. "clamdscan --no-summary").
DOCUMENT_SCANNER = os.environ.get("ENTRAIDE_DOCUMENT_SCANNER", "")
# Evidence files uploaded (pages, API) wait here for the import task, which deletes them when it
# ends: private, outside the web root.
EVIDENCE_INBOX_DIR = Path(os.environ.get("ENTRAIDE_EVIDENCE_INBOX_DIR", VAR_DIR / "evidence-inbox"))
# The folder `entraide evidence watch` imports the files dropped in (processing/, done/, failed/).
EVIDENCE_WATCH_DIR = Path(os.environ.get("ENTRAIDE_EVIDENCE_WATCH_DIR", VAR_DIR / "evidence-watch"))
# DuckDB's memory while it reads and checks an evidence file: beyond, it spills to disk.
EVIDENCE_IMPORT_MEMORY_LIMIT = os.environ.get("ENTRAIDE_EVIDENCE_IMPORT_MEMORY_LIMIT", "512MB")
# A columnar (Parquet) copy of each imported batch, which whole-fund verification reads.
EVIDENCE_COLUMNS_DIR = Path(
    os.environ.get("ENTRAIDE_EVIDENCE_COLUMNS_DIR", VAR_DIR / "evidence-columns")
)

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if IS_PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587" if IS_PRODUCTION else "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", IS_PRODUCTION)
# How long a process may keep a partner's token and the rules in force without reading them
# again (entraide/core/ttl.py); 0 reads them on every request.
ENTRAIDE_HOT_CACHE_SECONDS = float(os.environ.get("ENTRAIDE_HOT_CACHE_SECONDS", "10"))
# Where applicants reach the portal, for the links in e-mails sent by the worker.
PUBLIC_URL = os.environ.get("ENTRAIDE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "entraide <noreply@entraide.invalid>")

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = IS_PRODUCTION
CSRF_COOKIE_SECURE = IS_PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Logs go to the console (stderr) for the process manager to collect: plain text by default,
# one JSON object per line with LOG_FORMAT=json (production). Each line written during a
# request carries its request id and user id (never the e-mail); NIRs and IBANs are masked in
# the message, its arguments, extra fields and tracebacks (entraide/core/logging.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "entraide.core.logging.RequestContextFilter"},
        "mask_sensitive": {"()": "entraide.core.logging.SensitiveDataFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "text": {"()": "entraide.core.logging.TextFormatter"},
        "json": {"()": "entraide.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["request_context", "mask_sensitive"],
        },
        # Django's error e-mails, sent only if ADMINS is set; their report goes through
        # DEFAULT_EXCEPTION_REPORTER(_FILTER) below.
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "request_context", "mask_sensitive"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Instead of Django's default handlers, whose console one would print unmasked.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
    },
}
# The technical error report (DEBUG pages, e-mails to ADMINS) hides identifiers, bank details,
# passwords and tokens in POST data, settings and local variables, and masks NIRs and IBANs.
DEFAULT_EXCEPTION_REPORTER_FILTER = "entraide.core.logging.SensitiveExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "entraide.core.logging.SensitiveExceptionReporter"

# Paging of back-office lists: one fixed page size keeps the number of queries per page fixed.
BACKOFFICE_PAGE_SIZE = 50
# How long "I am reviewing this one" holds an application before others may take it over.
REVIEW_LOCK_MINUTES = 15

# --------------------------------------------------------------------------------------------
# Web hardening
# --------------------------------------------------------------------------------------------
INSTALLED_APPS += [
    "django_ratelimit",  # for its system checks (a shared, atomic cache)
    "ninja",  # the API's docs from our own static files, not a CDN (and no inline script)
]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "entraide.core.middleware.SecurityHeadersMiddleware",
)
# Before CsrfViewMiddleware, which reads the form (and so the whole body) to find its token.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware"),
    "entraide.core.middleware.UploadLimitMiddleware",
)
# After AuthenticationMiddleware: some pages are counted per person.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "entraide.core.middleware.RateLimitMiddleware",
)

# django-csp: nothing inline, nothing from elsewhere. Charts are data: images (SVG).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), payment=(), usb=()"
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# The session cookie's flags: "Authentication hardening" below.
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = IS_PRODUCTION
if IS_PRODUCTION:
    # __Host-: sent only over HTTPS, for this host only, whatever a sibling domain sets.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# The cache counts rate limits: shared by every process in production (Redis), local to the
# process in development and tests.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "web"}
    }
SILENCED_SYSTEM_CHECKS = [
    # django-ratelimit knows django-redis by name, not Django's own RedisCache, whose incr is
    # Redis' atomic INCR as well.
    "django_ratelimit.W001",
]
if not REDIS_URL:
    # One process in development; in production entraide.core.checks warns (--deploy)
    # that limits are counted per process without REDIS_URL.
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")
# How many reverse proxies in front of the application add to X-Forwarded-For: the client's
# address is the one the outermost of them saw (entraide.core.middleware.client_ip).
ENTRAIDE_TRUSTED_PROXIES = int(os.environ.get("ENTRAIDE_TRUSTED_PROXIES", "0"))
RATELIMIT_IP_META_KEY = "entraide.core.middleware.client_ip"
NINJA_NUM_PROXIES = ENTRAIDE_TRUSTED_PROXIES

# Rate limits ("count/period", period s, m, h or d; empty: none). Pages: per client address
# (per person for the application's steps); API: per token, and per address for requests
# whose token is refused.
ENTRAIDE_RATE_SIGNUP = os.environ.get("ENTRAIDE_RATE_SIGNUP", "20/h")
ENTRAIDE_RATE_PASSWORD_RESET = os.environ.get("ENTRAIDE_RATE_PASSWORD_RESET", "20/h")
ENTRAIDE_RATE_SELF_CHECK = os.environ.get("ENTRAIDE_RATE_SELF_CHECK", "60/m")
ENTRAIDE_RATE_APPLY = os.environ.get("ENTRAIDE_RATE_APPLY", "60/m")
ENTRAIDE_RATE_ATTESTATION_VERIFY = os.environ.get("ENTRAIDE_RATE_ATTESTATION_VERIFY", "30/m")
ENTRAIDE_RATE_PUBLIC_STATISTICS = os.environ.get("ENTRAIDE_RATE_PUBLIC_STATISTICS", "120/m")
ENTRAIDE_RATE_API_PARTNER = os.environ.get("ENTRAIDE_RATE_API_PARTNER", "600/m")
ENTRAIDE_RATE_API_STAFF = os.environ.get("ENTRAIDE_RATE_API_STAFF", "120/m")
ENTRAIDE_RATE_API_REFUSED = os.environ.get("ENTRAIDE_RATE_API_REFUSED", "30/m")

# Request sizes, checked on Content-Length before the body is read
# (entraide.core.middleware.UploadLimitMiddleware): any request, and the pages that take files.
MB = 1024 * 1024
ENTRAIDE_REQUEST_MAX_BYTES = int(os.environ.get("ENTRAIDE_REQUEST_MAX_BYTES", 3 * MB))
ENTRAIDE_EVIDENCE_MAX_BYTES = int(os.environ.get("ENTRAIDE_EVIDENCE_MAX_BYTES", 1024 * MB))
# The documents of one step or one reply: several files of DOCUMENT_MAX_BYTES.
ENTRAIDE_DOCUMENT_REQUEST_MAX_BYTES = int(
    os.environ.get("ENTRAIDE_DOCUMENT_REQUEST_MAX_BYTES", 5 * DOCUMENT_MAX_BYTES + MB)
)
ENTRAIDE_UPLOAD_LIMITS = {
    "apply_step": ENTRAIDE_DOCUMENT_REQUEST_MAX_BYTES,
    "application_status": ENTRAIDE_DOCUMENT_REQUEST_MAX_BYTES,
    "evidence_import_new": ENTRAIDE_EVIDENCE_MAX_BYTES + MB,
    "intake-api:evidence_imports": ENTRAIDE_EVIDENCE_MAX_BYTES + MB,
    # The forms' own limits (20 MB, 50 MB) and the form around the file.
    "crew_rosters": 21 * MB,
    "exchange_rates_import": 21 * MB,
    "bank_returns": 51 * MB,
}
# Files beyond this wait on disk (FILE_UPLOAD_TEMP_DIR) rather than in memory while a request
# is read; at most this many files per request.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2621440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2621440
DATA_UPLOAD_MAX_NUMBER_FILES = 20
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# --------------------------------------------------------------------------------------------
# Authentication hardening
# --------------------------------------------------------------------------------------------
# Sessions end 12 hours after the login whatever happens, and sooner without activity: 30
# minutes for the back office's people, 2 hours for applicants (forms take time; their drafts
# are kept). entraide/accounts/middleware.py logs them out and says why.
SESSION_COOKIE_AGE = int(os.environ.get("ENTRAIDE_SESSION_HOURS", "12")) * 3600
ENTRAIDE_STAFF_IDLE_MINUTES = int(os.environ.get("ENTRAIDE_STAFF_IDLE_MINUTES", "30"))
ENTRAIDE_APPLICANT_IDLE_MINUTES = int(os.environ.get("ENTRAIDE_APPLICANT_IDLE_MINUTES", "120"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No "remember me": the session cookie goes when the browser closes.
ACCOUNT_SESSION_REMEMBER = False

# django-axes: 5 failed logins for one account from one address lock that pair out for 15
# minutes (each attempt meanwhile starts the wait again); a successful login clears the
# count. Its tables keep every attempt (admin site: Axes).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = int(os.environ.get("ENTRAIDE_LOCKOUT_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "login"  # allauth's form
AXES_USERNAME_CALLABLE = "entraide.accounts.lockout.login_username"
AXES_CLIENT_IP_CALLABLE = "entraide.accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "entraide.accounts.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Attempts and lockouts are kept in axes' tables; not a log line per login (nor at each start).
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "login"]
# allauth counts failed logins too (5 per address in 5 minutes by default): leave the
# per-account count to axes, whose lockout page says what happened, and keep allauth's limit
# per client address (many accounts tried from one place).
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip"}

# Two-factor authentication: required in the back office of whoever may approve or pay
# (entraide/accounts/selectors.py requires_mfa); secrets encrypted at rest.
MFA_ADAPTER = "entraide.accounts.mfa.EntraideMFAAdapter"

# --------------------------------------------------------------------------------------------
# Monitoring
# --------------------------------------------------------------------------------------------
# Behind a reverse proxy that terminates TLS (docs/production.md), Django learns the client's
# scheme from X-Forwarded-Proto, which the proxy must set itself (overwriting the client's);
# never turn this on without such a proxy in front.
if env_bool("ENTRAIDE_BEHIND_TLS_PROXY", IS_PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Load balancers probe /healthz over plain HTTP, straight to the application server.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Error reports to Sentry when SENTRY_DSN is set, scrubbed of personal data
# (entraide/core/sentry.py); SENTRY_TRACES_SAMPLE_RATE of the requests traced (0: none).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from entraide.core.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=ENVIRONMENT,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
        release=os.environ.get("SENTRY_RELEASE", ""),
    )
