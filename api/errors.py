"""The api package's exception tree and its one mapping to HTTP.

Services raise domain errors; routes never build HTTP errors themselves. Each error carries
a machine-readable ``code`` and optional ``details`` (e.g. row/field problems)."""

from __future__ import annotations

from typing import Any


class PlatformError(Exception):
    """Root of every error the api package raises on purpose."""

    status_code = 500
    code = "platform_error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_body(self) -> dict:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class AuthenticationError(PlatformError, PermissionError):
    status_code = 401
    code = "unauthenticated"


class ForbiddenError(PlatformError, PermissionError):
    status_code = 403
    code = "forbidden"


class NotFoundError(PlatformError, LookupError):
    status_code = 404
    code = "not_found"


class ConflictError(PlatformError, ValueError):
    status_code = 409
    code = "conflict"


class InvalidInputError(PlatformError, ValueError):
    """The request is well-formed HTTP but its content is wrong (rows, fields, ranges)."""

    status_code = 422
    code = "invalid_input"


class PayloadTooLargeError(PlatformError, ValueError):
    status_code = 413
    code = "payload_too_large"


class ChainUnavailableError(PlatformError, ConnectionError):
    status_code = 503
    code = "chain_unavailable"


def install_error_handlers(app: Any) -> None:
    """Map every PlatformError to its HTTP status with a JSON body, in one place."""
    from fastapi import Request
    from fastapi.responses import JSONResponse

    async def handle(_request: Request, exc: PlatformError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content=exc.to_body())

    app.add_exception_handler(PlatformError, handle)
