import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import translation

# The real authorization server and the misbehaving one (tests/servers.py).
pytest_plugins = ["tests.servers"]


@pytest.fixture(autouse=True)
def _default_language():
    """A request in German (LocaleMiddleware) leaves German active in the test's thread: every
    test ends back in the default language, so the next one reads what it expects."""
    yield
    translation.deactivate()


@pytest.fixture
def admin_client(db, django_user_model):
    """A logged-in superuser's client, separate from the anonymous `client` fixture."""
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def staff_factory(db):
    """Staff users holding exactly the named permissions (codenames of the connectors app)."""

    def make(username, *codenames):
        user = User.objects.create_user(username, password="pw", is_staff=True)
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="connectors", codename__in=codenames)
        )
        return user

    return make
