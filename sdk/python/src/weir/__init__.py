"""Python client for the Weir LLM gateway.

    from weir import Weir

    client = Weir(base_url="http://127.0.0.1:8080", api_key="wr-...")
    reply = client.chat.completions.create(model="deepseek-r1", messages=[{"role": "user", "content": "Hi"}])
    print(reply.text)
"""

from . import types
from ._client import DEFAULT_BASE_URL, AsyncWeir, Weir
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    StreamError,
    UnprocessableEntityError,
    WeirError,
)
from ._retry import RetryPolicy
from ._streaming import AsyncStream, Stream

__version__ = "0.1.0"

__all__ = [
    "Weir",
    "AsyncWeir",
    "DEFAULT_BASE_URL",
    "RetryPolicy",
    "Stream",
    "AsyncStream",
    "types",
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
