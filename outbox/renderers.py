"""Renderers for rows written without their mail (bulk SQL), filled at AppConfig.ready().

The outbox cannot import the apps that write mail; each app registers how to turn its
kinds' payloads into mail, and delivery asks here.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Mail:
    to: list[str]
    subject: str
    text_body: str
    html_body: str = ""


# Takes the payloads of one delivery batch, returns one Mail (or None: nobody to tell) each,
# in the same order, so a renderer can fetch what it needs for the whole batch at once.
Renderer = Callable[[list[dict]], list[Mail | None]]

_renderers: dict[str, Renderer] = {}


def renderer_register(*, kind: str, render: Renderer) -> None:
    _renderers[kind] = render


def renderer_for(kind: str) -> Renderer | None:
    return _renderers.get(kind)
