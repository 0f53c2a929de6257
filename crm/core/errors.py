"""Errors that services raise and views turn into messages."""


class ServiceError(Exception):
    """A rule refused the change; `field` names the form field when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(ServiceError):
    """Input that cannot be saved."""


class Conflict(ServiceError):
    """Someone else changed the record since the page was loaded."""


class OutreachRefused(ServiceError):
    """The consent gate refused contact with this person."""

    def __init__(self, message: str, contact_id: int | None = None, action: str = "outreach"):
        super().__init__(message)
        self.contact_id = contact_id
        self.action = action
