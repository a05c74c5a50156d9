"""The OAuth callback: where providers send the operator back to after Generate (one URL per
connection, connectors/core/callback.py)."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from connectors.core import text
from connectors.core.sentences import Sentence
from connectors.engine import authorization, state
from connectors.models import Connection
from connectors.partners import grants


def _provider_words(request, name, limit):
    return text.partner_words(request.GET.get(name, ""), limit)


def provider_sentence(value, limit=200):
    """The provider's own words (an error_description) made fit to show: printable characters
    only, single spaces, cut after the first sentence and at `limit` characters. The message
    framework escapes it when the page renders it (it is never marked safe)."""
    return text.partner_words(value, limit, first_sentence=True)


def _page_of(request, connection_id):
    """The connection's change page, on the OAuth 2.0 tab where the token and its result are;
    None when there is no such connection or the user may not see it."""
    connection = Connection.objects.filter(pk=connection_id).first() if connection_id else None
    if connection is None:
        return None
    opts = connection.specific._meta
    if not (
        request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        or request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
    ):
        return None
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[connection.pk]) + "#oauth"


@staff_member_required
def oauth_callback(request, connection_id=None):
    overview = reverse("admin:connectors_connection_changelist")
    try:
        flow = state.consume(request, request.GET.get("state"), connection_id, request.GET.get("iss"))
    except state.StateError as refused:
        messages.error(request, str(refused))
        # Back where the operator clicked Generate: the connection the state was issued for, or
        # the one whose callback URL the answer arrived at.
        return HttpResponseRedirect(_page_of(request, refused.connection or connection_id) or overview)
    finally:
        # The state is used up now, whatever happens next: saved before any partner is asked,
        # so that no failure later in this request leaves it usable again.
        request.session.save()
    connection_id, verifier = flow.connection, flow.verifier
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        messages.error(request, _("The connection was deleted while you were logging in."))
        return HttpResponseRedirect(overview)
    connection = connection.specific
    opts = connection._meta
    if not request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
        messages.error(request, _("You may not change this connection."))
        return HttpResponseRedirect(overview)
    page = _page_of(request, connection.pk)

    error = _provider_words(request, "error", 60)
    if error or not request.GET.get("code"):
        description = _provider_words(request, "error_description", 200)
        if error == "access_denied":
            # The provider may say why (a policy, a missing role); otherwise the operator denied it.
            said = provider_sentence(request.GET.get("error_description", ""))
            sentence = Sentence("authorize_denied_said", reason=said) if said else Sentence("authorize_denied")
        else:
            said_error = error or Sentence("no_code_returned")
            sentence = (
                Sentence("authorize_not_done_said", error=said_error, description=description)
                if description
                else Sentence("authorize_not_done", error=said_error)
            )
        messages.error(request, authorization.refused(connection, request.user, sentence))
        return HttpResponseRedirect(page)
    succeeded, sentence = authorization.exchange_code(
        connection, grants.of(connection), request.GET["code"], verifier, request.user, flow.redirect_uri
    )
    messages.add_message(request, messages.SUCCESS if succeeded else messages.ERROR, sentence)
    return HttpResponseRedirect(page)
