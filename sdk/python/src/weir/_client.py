"""The Weir clients: :class:`Weir` (blocking) and :class:`AsyncWeir` (asyncio).

Both expose the same resources (``chat``, ``completions``, ``embeddings``, ``models``,
``conversations``, ``admin``, ``auth``). A resource method of :class:`AsyncWeir` returns an
awaitable. One client may be shared by several threads (``Weir``) or tasks (``AsyncWeir``)
because httpx's connection pools are safe to share.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, Callable, Dict, Mapping, Optional, Union

import httpx

from . import resources
from ._errors import APIConnectionError, APITimeoutError, error_from_response
from ._retry import RetryPolicy
from ._streaming import AsyncStream, Stream

__all__ = ["Weir", "AsyncWeir", "DEFAULT_BASE_URL"]

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
_log = logging.getLogger("weir")

JSONCast = Callable[[Any], Any]


def _normalize_base_url(base_url: Optional[str]) -> str:
    """Return the gateway's root URL; an OpenAI-style URL ending in ``/v1`` is accepted too."""
    url = (base_url or os.environ.get("WEIR_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return url


def _decode_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _clean(mapping: Mapping[str, Any]) -> Dict[str, Any]:
    """Drop ``None`` values so that optional arguments are left out of the request."""
    return {key: value for key, value in mapping.items() if value is not None}


class _ClientBase:
    def __init__(
        self,
        *,
        base_url: Optional[str],
        api_key: Optional[str],
        timeout: Union[float, httpx.Timeout],
        max_retries: int,
        retry_policy: Optional[RetryPolicy],
        default_headers: Optional[Mapping[str, str]],
    ) -> None:
        self.base_url = _normalize_base_url(base_url)
        self.api_key = api_key if api_key is not None else os.environ.get("WEIR_API_KEY")
        self.timeout = timeout
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self._headers: Dict[str, str] = {"Accept": "application/json", "User-Agent": "weir-python/0.1.0"}
        if default_headers:
            self._headers.update(default_headers)

        self.chat = resources.Chat(self)
        self.completions = resources.Completions(self)
        self.embeddings = resources.Embeddings(self)
        self.models = resources.Models(self)
        self.conversations = resources.Conversations(self)
        self.admin = resources.Admin(self)
        self.auth = resources.Auth(self)

    def _auth_headers(self) -> Dict[str, str]:
        if not self.api_key:
            return {}
        return {"Authorization": f"Bearer {self.api_key}"}

    def _build(self, http: Any, method: str, path: str, body: Any, params: Optional[Mapping[str, Any]], stream: bool) -> httpx.Request:
        headers = {**self._headers, **self._auth_headers()}
        if stream:
            headers["Accept"] = "text/event-stream"
        return http.build_request(
            method,
            self.base_url + path,
            json=body,
            params=_clean(params) if params else None,
            headers=headers,
        )

    def _log_retry(self, request: httpx.Request, attempt: int, delay: float, reason: str) -> None:
        _log.info(
            "retrying request method=%s url=%s attempt=%d delay_s=%.2f reason=%s",
            request.method, request.url, attempt, delay, reason,
        )


class Weir(_ClientBase):
    """Blocking client.

    Args:
        base_url: the gateway's URL, default ``$WEIR_BASE_URL`` or ``http://127.0.0.1:8080``.
        api_key: a ``wr-...`` key, default ``$WEIR_API_KEY``. Leave it unset to use a
            session cookie from :meth:`resources.Auth.login`.
        timeout: seconds for connect, read and write, or an ``httpx.Timeout``.
        max_retries: retries on 429, 503 and refused connections (see :class:`RetryPolicy`).
        retry_policy: replaces ``max_retries`` with a whole policy.
        http_client: an ``httpx.Client`` to use instead of a new one (proxies, TLS settings).
    """

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: Union[float, httpx.Timeout] = 120.0,
        max_retries: int = 2,
        retry_policy: Optional[RetryPolicy] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        http_client: Optional[httpx.Client] = None,
    ) -> None:
        super().__init__(
            base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries,
            retry_policy=retry_policy, default_headers=default_headers,
        )
        self._http = http_client or httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Weir":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        cast: JSONCast = lambda data: data,
        stream: bool = False,
    ) -> Any:
        """Send one API call with retries; return ``cast(json)`` or a :class:`Stream` of ``cast``."""
        attempt = 0
        while True:
            attempt += 1
            request = self._build(self._http, method, path, body, params, stream)
            try:
                response = self._http.send(request, stream=stream)
            except httpx.ConnectError as error:
                # Nothing reached the server, so sending again cannot duplicate the request.
                delay = self.retry_policy.delay(attempt, None)
                if delay is None:
                    raise APIConnectionError(f"cannot connect to {self.base_url}: {error}", request=request) from error
                self._log_retry(request, attempt, delay, "connect failed")
                time.sleep(delay)
                continue
            except httpx.TimeoutException as error:
                raise APITimeoutError(f"{method} {path} timed out after {self.timeout}s", request=request) from error
            except httpx.TransportError as error:
                raise APIConnectionError(f"{method} {path} failed: {error}", request=request) from error

            if response.status_code < 400:
                if stream:
                    return Stream(response, cast)
                try:
                    response.read()
                finally:
                    response.close()
                return cast(_decode_body(response))

            try:
                response.read()
            finally:
                response.close()
            delay = self.retry_policy.delay(attempt, response)
            if delay is None:
                raise error_from_response(response, _decode_body(response))
            self._log_retry(request, attempt, delay, f"status {response.status_code}")
            time.sleep(delay)


class AsyncWeir(_ClientBase):
    """Asyncio client with the same arguments as :class:`Weir` (``http_client`` is an
    ``httpx.AsyncClient``). Close it with ``await client.close()`` or ``async with``."""

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: Union[float, httpx.Timeout] = 120.0,
        max_retries: int = 2,
        retry_policy: Optional[RetryPolicy] = None,
        default_headers: Optional[Mapping[str, str]] = None,
        http_client: Optional[httpx.AsyncClient] = None,
    ) -> None:
        super().__init__(
            base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries,
            retry_policy=retry_policy, default_headers=default_headers,
        )
        self._http = http_client or httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncWeir":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        cast: JSONCast = lambda data: data,
        stream: bool = False,
    ) -> Any:
        """Asynchronous :meth:`Weir._request`."""
        attempt = 0
        while True:
            attempt += 1
            request = self._build(self._http, method, path, body, params, stream)
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.ConnectError as error:
                delay = self.retry_policy.delay(attempt, None)
                if delay is None:
                    raise APIConnectionError(f"cannot connect to {self.base_url}: {error}", request=request) from error
                self._log_retry(request, attempt, delay, "connect failed")
                await asyncio.sleep(delay)
                continue
            except httpx.TimeoutException as error:
                raise APITimeoutError(f"{method} {path} timed out after {self.timeout}s", request=request) from error
            except httpx.TransportError as error:
                raise APIConnectionError(f"{method} {path} failed: {error}", request=request) from error

            if response.status_code < 400:
                if stream:
                    return AsyncStream(response, cast)
                try:
                    await response.aread()
                finally:
                    await response.aclose()
                return cast(_decode_body(response))

            try:
                await response.aread()
            finally:
                await response.aclose()
            delay = self.retry_policy.delay(attempt, response)
            if delay is None:
                raise error_from_response(response, _decode_body(response))
            self._log_retry(request, attempt, delay, f"status {response.status_code}")
            await asyncio.sleep(delay)
