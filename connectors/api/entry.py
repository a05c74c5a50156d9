"""The API's own way in: requests under /api/ skip the middleware the admin needs and the API
does not (sessions, CSRF, authentication by cookie, messages, clickjacking and CSP headers, login
throttling, the slash redirect). On the token hot path that middleware costs more than the
handout's own database work (docs/api.md, Speed).

`ApiEntry` sits in MIDDLEWARE right after SecurityMiddleware (so HTTPS redirects and HSTS still
apply); for an API path it hands the request to a second, short chain: API_MIDDLEWARE, then the
URL resolver and the view, exactly as Django's own handler runs them.
"""

from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.utils.module_loading import import_string

PREFIX = "/api/"

# What an API request does go through, outermost first.
API_MIDDLEWARE = (
    # Every answer a problem when it is an error, and never stored by a cache.
    "connectors.api.answers.ProblemAnswers",
    # Sentences in the consumer's language (Accept-Language), as the admin's.
    "django.middleware.locale.LocaleMiddleware",
)


class _ApiHandler(BaseHandler):
    """Django's request handler over API_MIDDLEWARE instead of settings.MIDDLEWARE (sync only, as
    the project is served by WSGI)."""

    def load_middleware(self, is_async=False):
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(API_MIDDLEWARE):
            middleware = import_string(path)(handler)
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class ApiEntry:
    def __init__(self, get_response):
        self.get_response = get_response
        self.api = _ApiHandler()
        self.api.load_middleware()

    def __call__(self, request):
        if request.path_info.startswith(PREFIX):
            return self.api._middleware_chain(request)
        return self.get_response(request)
