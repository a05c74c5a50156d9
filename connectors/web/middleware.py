"""A stored secret the configured keys cannot read (a wrong FIELD_ENCRYPTION_KEY at run time)
answers 503 with the sentence saying what to fix, instead of a bare server error. The secret and
its ciphertext are never part of it (connectors/core/fields.py raises UnreadableSecret without them).
The token API answers with its own problem for unexpected errors (connectors/api)."""

import logging

from django.http import HttpResponse

from connectors.core.fields import UnreadableSecret

logger = logging.getLogger("connectors.keys")


class UnreadableSecretMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UnreadableSecret):
            return None
        logger.error("%s (%s %s)", exception, request.method, request.path)
        return HttpResponse(str(exception), status=503, content_type="text/plain; charset=utf-8")
