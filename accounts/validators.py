"""Text people type that must not break what it flows into: mail headers, CSV cells, log
lines, the admin. One validator for single-line text (names, labels, ticket references,
subjects) and one for multi-line text (messages, reasons), used on the model fields and the
plain forms alike; `single_line` strips the same characters defensively where text is
rendered into a header, a cell or a log line.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Bidirectional embeddings, overrides and isolates: they make text read differently from
# what it is ("Trojan Source"). Zero-width joiners stay: emoji sequences need them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

NO_CONTROL_CHARACTERS = _(
    "Remove the line breaks and invisible control characters from this text; type it on one line."
)
NO_CONTROL_CHARACTERS_MULTILINE = _(
    "Remove the invisible control characters from this text (line breaks are fine)."
)


def _forbidden(character: str, *, allow_line_breaks: bool) -> bool:
    if allow_line_breaks and character in _LINE_BREAKS | {"\t"}:
        return False
    if character in _BIDI_CONTROLS or character in _LINE_BREAKS:
        return True
    return unicodedata.category(character) == "Cc"


@deconstructible
class ControlCharacterValidator:
    """Refuses control characters (and line breaks unless `allow_line_breaks`)."""

    def __init__(self, *, allow_line_breaks: bool = False) -> None:
        self.allow_line_breaks = allow_line_breaks

    def __call__(self, value: object) -> None:
        text = "" if value is None else str(value)
        if any(_forbidden(c, allow_line_breaks=self.allow_line_breaks) for c in text):
            message = (
                NO_CONTROL_CHARACTERS_MULTILINE if self.allow_line_breaks else NO_CONTROL_CHARACTERS
            )
            raise ValidationError(message, code="control_characters")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ControlCharacterValidator)
            and other.allow_line_breaks == self.allow_line_breaks
        )


single_line_text = ControlCharacterValidator()
multi_line_text = ControlCharacterValidator(allow_line_breaks=True)

_STRIP = re.compile(
    "["
    + re.escape("".join(_BIDI_CONTROLS | _LINE_BREAKS))
    + "".join(re.escape(chr(c)) for c in range(32) if chr(c) not in _LINE_BREAKS)
    + "\x7f]+"
)


def single_line(value: object) -> str:
    """`value` as one line of plain text: control characters and line breaks become one
    space. For mail subjects, CSV cells and log lines, whatever the database holds."""
    return _STRIP.sub(" ", "" if value is None else str(value)).strip()
