"""Make sure someone can log in to the admin, and say how."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils.translation import gettext


class Command(BaseCommand):
    help = "Create an 'admin' superuser with a random password when no superuser exists."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args, url, **options):
        users = get_user_model().objects
        existing = users.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if existing:
            self.stdout.write(
                gettext(
                    "Log in at %(url)s as “%(user)s” (forgot the password? run: .venv/bin/python manage.py "
                    "changepassword %(user)s)"
                )
                % {"url": url, "user": existing.get_username()}
            )
            return
        password = secrets.token_urlsafe(12)
        users.create_superuser("admin", "", password)
        # Shown once, on the terminal of the person installing; it is not stored anywhere else.
        self.stdout.write(
            self.style.SUCCESS(
                gettext(
                    "Created the admin login. Log in at %(url)s as “admin” with password: %(password)s\n"
                    "(shown only now; change it with: .venv/bin/python manage.py changepassword admin)"
                )
                % {"url": url, "password": password}
            )
        )
