"""The one domain error type: a French message for people, a machine code for the API."""


class DomainError(Exception):
    """Raised by services. ``code`` maps to an HTTP status in one exception handler."""

    STATUS = {
        "invalid": 400,
        "guard": 400,
        "forbidden": 403,
        "not_found": 404,
        "unavailable": 409,
        "conflict": 409,
    }

    def __init__(self, message: str, *, code: str = "invalid", errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.errors = errors or {}

    @property
    def status(self) -> int:
        return self.STATUS.get(self.code, 400)


class TransitionUnavailable(DomainError):
    def __init__(self, message: str):
        super().__init__(message, code="unavailable")


class ConcurrentChange(DomainError):
    def __init__(self, message: str = "Le dossier a été modifié entre-temps : rechargez-le."):
        super().__init__(message, code="conflict")
