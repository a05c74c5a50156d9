"""Settings for the test run: the project's settings with a fixed test key and loopback allowed.

The environment is set before the project's settings load, so a developer's `.env` (read with
lower precedence) cannot point the tests at a real database or real partners.
"""

import os
import tempfile

# A throwaway key used only by the tests (never a production key).
TEST_FIELD_ENCRYPTION_KEY = "8J_3b2lW4Pg9kUeWfCBJ0G9oCqYB7jVJbRuo1iq_4hM="

os.environ["SECRET_KEY"] = "tests-only-not-secret"
os.environ["FIELD_ENCRYPTION_KEY"] = TEST_FIELD_ENCRYPTION_KEY
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:")
os.environ["DEBUG"] = "false"
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
os.environ["PUBLIC_BASE_URL"] = "http://127.0.0.1:8000"
# The test servers listen on ports the system picks: the range is named (an entry without a port
# allows only the scheme's default port).
os.environ["EXTRA_ALLOWED_HOSTS"] = "127.0.0.1:1-65535"

from project.settings import *  # noqa: E402,F401,F403

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not Django's default in-memory test database: the concurrency tests share it
    # between threads and processes (an in-memory database lives in one process, and its shared
    # cache answers "table is locked" at once instead of waiting for the lock).
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"partner-connections-test-{os.getpid()}.sqlite3")
    }

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
