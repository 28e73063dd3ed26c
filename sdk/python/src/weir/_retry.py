"""Retry policy shared by the sync and async clients."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional

import httpx

from ._errors import parse_retry_after

# Statuses worth another try: 429 (quota refills) and 503 (no upstream ready, load shedding).
RETRYABLE_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before sending a request again.

    Attributes:
        max_retries: extra attempts after the first; 0 disables retries.
        initial_backoff: seconds before the first retry when the server sends no Retry-After.
        max_backoff: ceiling in seconds for the exponential backoff.
        max_retry_after: the maximum Retry-After in seconds that the client waits for. A
            longer one raises at once, so a spent daily quota does not block the caller.
    """

    max_retries: int = 2
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, response: Optional[httpx.Response]) -> Optional[float]:
        """Return seconds to wait before retry number ``attempt`` (1-based), or None to give up."""
        if attempt > self.max_retries:
            return None
        if response is not None:
            if response.status_code not in RETRYABLE_STATUSES:
                return None
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry_after is not None:
                return retry_after if retry_after <= self.max_retry_after else None
        backoff = min(self.max_backoff, self.initial_backoff * (2 ** (attempt - 1)))
        # Full jitter keeps many clients that hit the same limit from retrying in step.
        return backoff * (0.5 + random.random() / 2)
