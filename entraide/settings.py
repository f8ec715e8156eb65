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
    "allauth",
    "allauth.account",
    "allauth.mfa",
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
    "entraide.demo",
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
    "allauth.account.middleware.AccountMiddleware",
    "entraide.core.middleware.DomainErrorMiddleware",
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
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Paging of back-office lists: one fixed page size keeps the number of queries per page fixed.
BACKOFFICE_PAGE_SIZE = 50
# How long "I am reviewing this one" holds an application before others may take it over.
REVIEW_LOCK_MINUTES = 15
