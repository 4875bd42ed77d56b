"""Where a message is shown: in the panel that was acted on, or at the top of the page.

A view that wants the outcome of a form shown where the person is looking adds the message
with `extra_tags=<panel id>` (see `accounts.http.say_in_panel`); the panel includes
`_outcome.html` with that id. Messages without a panel show at the top, as before.
"""

from django import template

register = template.Library()


@register.filter
def page_wide(messages) -> list:
    return [message for message in messages if not message.extra_tags]


@register.filter
def for_panel(messages, panel: str) -> list:
    return [message for message in messages if message.extra_tags == panel]
