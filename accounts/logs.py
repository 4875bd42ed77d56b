"""Log lines that a request cannot forge: a path or a name with a line break in it would
otherwise start a fake log line of its own."""

import logging
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    return match.group().encode("unicode_escape").decode()


class SingleLineFormatter(logging.Formatter):
    """Shows control characters in the message as escapes (\\r, \\n, \\u202e); the
    traceback of an error still follows on its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = _CONTROL.sub(_escape, record.message)
        return super().formatMessage(record)
