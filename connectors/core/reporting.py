"""Error reports that never show a connection's secrets, whatever DEBUG says.

Django's SafeExceptionReporterFilter is only active when DEBUG is off, and it hides local
variables only in functions marked @sensitive_variables: the frames of requests-oauthlib,
oauthlib, requests and urllib3 hold the client secret, the password, the request body and the
Authorization header in plain variables, and a DEBUG=true error page printed them. This filter is
always active (settings.DEFAULT_EXCEPTION_REPORTER_FILTER) and shows the local variables of
Django's own frames only: every other frame lists its variables' names with the values hidden.
"""

import re

from django.views.debug import SafeExceptionReporterFilter

# Frames whose variables may be shown: Django's own code, where secrets are marked sensitive
# (auth, sessions) or never present. The database layer holds query parameters: hidden.
SHOWN_MODULES = re.compile(r"django\.(?!db\b|contrib\.auth\b)")


class SecretHidingFilter(SafeExceptionReporterFilter):
    # Django's list, plus what this project names secrets.
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|ENCRYPTION|DATABASE_URL|DSN", flags=re.I
    )

    def is_active(self, request):
        return True

    def get_traceback_frame_variables(self, request, tb_frame):
        module = tb_frame.f_globals.get("__name__", "")
        if not SHOWN_MODULES.match(module):
            return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
        return super().get_traceback_frame_variables(request, tb_frame)
