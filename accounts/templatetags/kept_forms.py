"""`{% kept_csrf_token %}`: the CSRF field of a form inside a kept fragment (see
accounts/kept_forms.py). Outside kept fragments, Django's `{% csrf_token %}`."""

from django import template
from django.utils.html import format_html

from accounts.kept_forms import TOKEN_PLACEHOLDER

register = template.Library()


@register.simple_tag
def kept_csrf_token() -> str:
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', TOKEN_PLACEHOLDER
    )
