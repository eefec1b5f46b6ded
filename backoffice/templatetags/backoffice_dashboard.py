"""`{% dashboard_widgets as widgets %}`: the admin home page's widgets for this request's
staff member (backoffice/dashboard/widgets.py)."""

from django import template

from backoffice.dashboard.widgets import widgets_for

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_widgets(context):
    request = context.get("request")
    if request is None or not request.user.is_active or not request.user.is_staff:
        return []
    return widgets_for(request.user)
