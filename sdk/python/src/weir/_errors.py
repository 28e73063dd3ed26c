"""Exceptions raised by the Weir client.

Every error the gateway returns has the body ``{"error": {"message", "type", "code",
"param"}}``; an :class:`APIStatusError` keeps that body and the HTTP status, so a caller
can branch on ``code`` without parsing text.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import httpx

__all__ = [
    "WeirError",
    "APIConnectionError",
    "APITimeoutError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "ServiceUnavailableError",
    "StreamError",
]


class WeirError(Exception):
    """Base class of every exception this package raises."""


class APIConnectionError(WeirError):
    """The request did not reach the gateway or the connection broke before a response."""

    def __init__(self, message: str, *, request: Optional[httpx.Request] = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """The gateway did not respond within the client's timeout."""


class APIStatusError(WeirError):
    """The gateway returned an HTTP error status.

    Attributes:
        status_code: the HTTP status.
        body: the decoded JSON body, or the raw text when it was not JSON.
        message, type, code, param: the fields of the ``error`` object, when present.
        request_id: the ``X-Request-Id`` response header, to quote to an administrator.
    """

    status_code: int = 0

    def __init__(self, response: httpx.Response, body: Any) -> None:
        error = body.get("error") if isinstance(body, Mapping) else None
        if not isinstance(error, Mapping):
            error = {}
        self.response = response
        self.status_code = response.status_code
        self.body = body
        self.message: str = str(error.get("message") or response.reason_phrase or "request failed")
        self.type: Optional[str] = error.get("type")
        self.code: Optional[str] = error.get("code")
        self.param: Optional[str] = error.get("param")
        self.request_id: Optional[str] = response.headers.get("x-request-id")
        super().__init__(f"HTTP {self.status_code}: {self.message}")


class BadRequestError(APIStatusError):
    """HTTP 400: the request is invalid; fix the named ``param``."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key or session is missing, unknown, expired or revoked."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key's role or model list does not allow this request."""


class NotFoundError(APIStatusError):
    """HTTP 404: the route, model, conversation, user or key does not exist."""


class ConflictError(APIStatusError):
    """HTTP 409: the object already exists (for example a user or team name)."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422: the request is well-formed JSON but its values are not accepted."""


class RateLimitError(APIStatusError):
    """HTTP 429: a quota is exhausted.

    ``retry_after`` is the number of seconds from the ``Retry-After`` header, or ``None``.
    """

    def __init__(self, response: httpx.Response, body: Any) -> None:
        super().__init__(response, body)
        self.retry_after: Optional[float] = parse_retry_after(response.headers.get("retry-after"))


class InternalServerError(APIStatusError):
    """HTTP 5xx: the gateway or its upstream failed."""


class ServiceUnavailableError(InternalServerError):
    """HTTP 503: no healthy upstream, or the gateway is shedding load."""

    def __init__(self, response: httpx.Response, body: Any) -> None:
        super().__init__(response, body)
        self.retry_after: Optional[float] = parse_retry_after(response.headers.get("retry-after"))


class StreamError(WeirError):
    """The gateway reported an error inside a stream that had already started."""

    def __init__(self, body: Any) -> None:
        error = body.get("error") if isinstance(body, Mapping) else None
        if not isinstance(error, Mapping):
            error = {}
        self.body = body
        self.message: str = str(error.get("message") or "stream failed")
        self.type: Optional[str] = error.get("type")
        self.code: Optional[str] = error.get("code")
        super().__init__(self.message)


_STATUS_TO_ERROR = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def error_from_response(response: httpx.Response, body: Any) -> APIStatusError:
    """Build the exception that matches ``response.status_code``."""
    error_class = _STATUS_TO_ERROR.get(response.status_code)
    if error_class is None:
        error_class = InternalServerError if response.status_code >= 500 else APIStatusError
    return error_class(response, body)


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Parse a ``Retry-After`` header: delay seconds or an HTTP date. ``None`` if absent or invalid."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = _seconds_until_http_date(value)
    if seconds is None or seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _seconds_until_http_date(value: str) -> Optional[float]:
    from email.utils import parsedate_to_datetime
    import datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
