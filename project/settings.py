"""Settings for Partner Connections.

Every value that differs between machines comes from the environment or an optional `.env` file
beside manage.py (see `.env.example`); this is the only module that reads the environment.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from connectors.core.encryption import KeyConfigurationError, parse_keys

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# One key or a comma-separated list, newest first: the first encrypts, all of them decrypt.
try:
    FIELD_ENCRYPTION_KEY = parse_keys(env.list("FIELD_ENCRYPTION_KEY", default=[]))
except KeyConfigurationError as error:
    raise ImproperlyConfigured(str(error)) from None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "csp",
    "axes",
    # Django's tasks API (the django-tasks backport of Django 6's django.tasks) and its database
    # backend: background renewals, the sweep, bulk tests and event pruning (README, Production).
    "django_tasks",
    "django_tasks_db",
    "connectors",
]

# Tasks are stored in the database and run by `manage.py run_worker` (README, Production): on
# SQLite one worker on the same machine, on PostgreSQL any number on any number of machines.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The token API (/api/) goes on through a short chain of its own, without the middleware below
    # that only the admin needs (connectors/api/entry.py).
    "connectors.api.entry.ApiEntry",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The reader's language from the browser's Accept-Language (LANGUAGES below).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A secret the keys cannot read: 503 with what to fix, not a bare server error.
    "connectors.web.middleware.UnreadableSecretMiddleware",
    # A Content-Security-Policy header on every page (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # Login throttling (django-axes, README Security); last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

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
            ],
        },
    },
]

# Widgets render through TEMPLATES, so the project's widget templates are found.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # BEGIN IMMEDIATE takes SQLite's write lock when an atomic block starts, so writers queue up
    # (for up to `timeout` seconds) instead of failing mid-transaction with "database is locked".
    # No transaction is ever held across a partner's answer (connectors/engine/renewal.py), so each
    # wait is one short write.
    # WAL journal: readers never wait for a writer nor block its commit, so the worker's short
    # writes (renewal claims, tokens, events) do not hold up the operator's pages and saves.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            # NORMAL is WAL's recommended durability: no corruption on a crash, and a commit
            # holds the write lock without waiting for the disk.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache counts the token API's rate limit per key (README, API). The default local-memory
# cache counts per process; CACHE_URL (e.g. redis://host:6379/0) shares one count across workers.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# django-axes checks each login against the recorded failures before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# LOGIN_FAILURE_LIMIT wrong passwords for one username from one address lock that pair out for
# LOGIN_LOCKOUT_MINUTES; a success resets the count. Unlock early: manage.py axes_reset (README).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Behind a proxy the client's address is in X-Forwarded-For (the proxy must set it).
if env.bool("BEHIND_PROXY", default=False):
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]

# A login lasts SESSION_HOURS (default 8, a working day), not Django's two weeks.
SESSION_COOKIE_AGE = int(env.float("SESSION_HOURS", default=8) * 3600)

# Every page says where its scripts, styles and images may come from: this site only, no inline
# script or style, no framing, no plugins. Forms are not restricted (form-action): Generate's
# answer redirects to the provider's login page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
# The languages the app is translated into (connectors/locale/; README, Languages).
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
# Where makemessages, run from the repository root, writes the catalog of the project's templates
# and static files (the app's own strings land there anyway).
LOCALE_PATHS = [BASE_DIR / "connectors" / "locale"]
# One date format per language on every admin page (project/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["project.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# SERVE_STATIC=true in production (README, Production): after `manage.py collectstatic`, the
# app serves STATIC_ROOT itself through WhiteNoise (gunicorn needs no web server for it), under
# content-hashed names, compressed and cacheable for a year. Off by default: `make run` serves
# the source folders with runserver, and templates would otherwise need the collected manifest.
if env.bool("SERVE_STATIC", default=False):
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# Production over HTTPS (README, Production). HTTPS=true: cookies only over https, http
# redirected to https, and HSTS telling browsers to use https only.
HTTPS = env.bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", default=False)
# BEHIND_PROXY=true only behind a reverse proxy that terminates TLS and always sets (overwrites)
# X-Forwarded-Proto: Django then trusts that header to know the request came over https.
# Anywhere else a client could forge the header.
if env.bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Partner Connections' own settings; defaults and validation live in connectors/core/app_settings.py.
PARTNER_CONNECTIONS = {
    # Callback URLs are built from this, never from the request's Host header, so they are right
    # behind a reverse proxy and cannot be steered by a forged header.
    "PUBLIC_BASE_URL": env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000"),
    # Hosts outside each provider's own domains that connections may reach (a sandbox, or the
    # loopback test server). Loopback hosts listed here may use plain http.
    "EXTRA_ALLOWED_HOSTS": env.list("EXTRA_ALLOWED_HOSTS", default=[]),
}

# Error reports (the DEBUG page, mail to ADMINS, logs) never show a connection's secrets: the
# filter is active whatever DEBUG says (connectors/core/reporting.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "connectors.core.reporting.SecretHidingFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        # With DEBUG on, Django's own console handler prints them already.
        "errors": {"class": "logging.StreamHandler", "filters": ["require_debug_false"]},
    },
    "loggers": {
        "connectors": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
        # Server errors reach stderr (gunicorn's error log, the terminal) even without ADMINS;
        # they still propagate to Django's own handlers (mail to ADMINS when DEBUG is off).
        "django.request": {"handlers": ["errors"], "level": "ERROR"},
        # At DEBUG these log whole token requests and responses, secrets included: never below
        # WARNING, whatever the root logger is set to.
        "requests_oauthlib": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
    },
}
