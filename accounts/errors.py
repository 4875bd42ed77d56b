"""The one error type for a refusal a person can act on.

A service raises `ApplicationError(message, field=...)`; the view shows the message as a form
error on `field` (or a non-field error) or as a flash message, through one helper
(`accounts.http.show_error`). Subclass only where a caller branches on the type.
"""


class ApplicationError(Exception):
    """A change that cannot be made as asked. `message` is written for the person acting."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
