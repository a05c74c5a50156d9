"""The admin index's attention banner ("2 connections need reauthorization, 1 renewal failing",
each part linking to the overview filtered by that health) and the lists' connection count."""

from django import template
from django.contrib.admin.templatetags.admin_list import pagination
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from connectors.models import Connection
from connectors.store import health

register = template.Library()

# How each health reads with its count; the first part names the noun ("2 connections need
# reauthorization"), so the later parts stay short ("1 renewal failing").
PHRASES = {
    health.Health.NEEDS_REAUTHORIZATION: lambda n: ngettext(
        "%(count)d connection needs reauthorization", "%(count)d connections need reauthorization", n
    ),
    health.Health.REFUSED: lambda n: ngettext(
        "%(count)d connection with settings refused", "%(count)d connections with settings refused", n
    ),
    health.Health.RENEWAL_FAILING: lambda n: ngettext("%(count)d renewal failing", "%(count)d renewals failing", n),
    health.Health.EXPIRED: lambda n: ngettext("%(count)d token expired", "%(count)d tokens expired", n),
    health.Health.TEST_FAILED: lambda n: ngettext(
        "%(count)d failed its last test", "%(count)d failed their last test", n
    ),
    health.Health.CHANGED: lambda n: ngettext(
        "%(count)d changed since its last test", "%(count)d changed since their last test", n
    ),
}


def attention_parts(counts):
    """[(health, words)] for the healths that need attention and occur, in precedence order."""
    return [
        (code, PHRASES[code](counts[code]) % {"count": counts[code]})
        for code in health.NEEDS_ATTENTION
        if counts.get(code)
    ]


@register.simple_tag(takes_context=True)
def attention_banner(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("connectors.view_connection"):
        return ""
    parts = attention_parts(health.attention_counts(Connection.objects.all()))
    if not parts:
        return ""
    overview = reverse("admin:connectors_connection_changelist")
    links = format_html_join(
        ", ",
        '<a href="{}?health={}">{}</a>',
        ((overview, code.value, words) for code, words in parts),
    )
    return format_html(
        '<div class="pc-attention" role="status"><strong>{}</strong> {}</div>', _("Needs your attention:"), links
    )


@register.inclusion_tag("admin/connectors/connections_pagination.html")
def connections_pagination(cl):
    """Django's paginator context, for a template that counts "connections"."""
    return pagination(cl)
