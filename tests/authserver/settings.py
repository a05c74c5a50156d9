"""Settings of the test authorization server (never the application's).

Everything tunable comes from AUTHSERVER_* environment variables, which
``python -m tests.authserver`` sets from its command line before Django starts.
"""

import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "test-authorization-server-not-secret"
DEBUG = False
ALLOWED_HOSTS = os.environ.get("AUTHSERVER_ALLOWED_HOSTS", "127.0.0.1 localhost [::1]").split()

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
    "tests.authserver",  # for templates/authserver/
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "tests.authserver.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        # python -m tests.authserver always sets AUTHSERVER_DB (--db or a temporary file).
        "NAME": os.environ.get("AUTHSERVER_DB", os.path.join(tempfile.gettempdir(), "authserver.sqlite3")),
        # The server is threaded: WAL plus IMMEDIATE transactions and a generous
        # busy timeout keep concurrent token requests from failing with
        # "database is locked".
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A test server: a fast hasher keeps logins and (hashed) client secret checks
# cheap, so concurrency tests and benchmarks measure the client, not PBKDF2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "/accounts/login/"
USE_TZ = True
TIME_ZONE = "UTC"

SCOPES = {
    "openid": "OpenID Connect sign-in",
    "offline_access": "Offline access (refresh tokens)",
    "refresh_token": "Refresh tokens (Salesforce's name for offline access)",
    "profile": "Your profile",
    "email": "Your e-mail address",
    "api": "Invenias API",
    "projects.read": "Read projects",
    "documents.read": "Read documents",
}

_refresh_seconds = os.environ.get("AUTHSERVER_REFRESH_TOKEN_SECONDS")

OAUTH2_PROVIDER = {
    "SCOPES": SCOPES,
    "SCOPES_BACKEND_CLASS": "tests.authserver.oauth.PerApplicationScopes",
    "OAUTH2_SERVER_CLASS": "tests.authserver.oauth.ProviderShapedServer",
    "OAUTH2_VALIDATOR_CLASS": "tests.authserver.oauth.CallbackPerConnectionValidator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("AUTHSERVER_ACCESS_TOKEN_SECONDS", "3600")),
    "REFRESH_TOKEN_EXPIRE_SECONDS": int(_refresh_seconds) if _refresh_seconds else None,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,  # an old refresh token dies at once
    "PKCE_REQUIRED": True,  # only the authorization code grant uses it
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only, "plain" refused
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # bearer in the header only
    "REQUEST_APPROVAL_PROMPT": "force",  # consent page every time
    "ALLOW_LOCALHOST_LOOPBACK": True,  # any port on http://localhost too
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    # ERROR by default: the password grant is legal here (Invenias uses it) and
    # DOT's warning on every use would drown the useful lines. DEBUG shows why
    # DOT refused a redirect URI.
    "loggers": {
        "oauth2_provider": {
            "handlers": ["stderr"],
            "level": os.environ.get("AUTHSERVER_OAUTH_LOG_LEVEL", "ERROR"),
            "propagate": False,
        }
    },
}
