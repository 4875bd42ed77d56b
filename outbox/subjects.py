"""Every mail subject is built here, so no text a user typed can break the header."""

import re
import unicodedata

SUBJECT_MAX_LENGTH = 250

_SPACES = re.compile(r"\s+")


def _one_line(value: object) -> str:
    # Control characters (CR, LF, NUL, …) and the Unicode line and paragraph separators
    # would end the header or smuggle another one in ("\r\nBcc: …"): each becomes a space.
    text = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in str(value)
    )
    return _SPACES.sub(" ", text).strip()


def subject_line(template: str, **values: object) -> str:
    """`template % values` on one line, at most SUBJECT_MAX_LENGTH characters.

    `template` uses %-style named placeholders, as translated strings do (without values it is
    taken as it is, so a finished subject can be passed through again). Each value and the
    result are flattened to one line: an account called "Shop\\r\\nBcc: x@evil.test" gives the
    subject "… Shop Bcc: x@evil.test …", one header, still sent.
    """
    if values:
        template = template % {name: _one_line(value) for name, value in values.items()}
    line = _one_line(template)
    if len(line) > SUBJECT_MAX_LENGTH:
        line = line[: SUBJECT_MAX_LENGTH - 1].rstrip() + "…"
    return line
