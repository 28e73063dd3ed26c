"""Server-sent event streams of chat chunks, as iterators."""

from __future__ import annotations

import json
from typing import Any, AsyncIterator, Callable, Generic, Iterator, List, Optional, TypeVar

import httpx

from ._errors import APIConnectionError, StreamError

T = TypeVar("T")


class _EventDecoder:
    """Turn SSE lines into ``data`` payloads; a blank line ends one event."""

    def __init__(self) -> None:
        self._data: List[str] = []

    def feed(self, line: str) -> Optional[str]:
        if line == "":
            if not self._data:
                return None
            payload = "\n".join(self._data)
            self._data = []
            return payload
        if line.startswith(":"):
            return None  # comment, used by the gateway as a heartbeat
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        return None

    def flush(self) -> Optional[str]:
        return self.feed("")


def _decode(payload: str, cast: Callable[[Any], T]) -> Optional[T]:
    """Return the chunk in ``payload``, None at ``[DONE]``; raise StreamError for an error event."""
    if payload.strip() == "[DONE]":
        return None
    body = json.loads(payload)
    if isinstance(body, dict) and "error" in body:
        raise StreamError(body)
    return cast(body)


class Stream(Generic[T]):
    """A synchronous stream of chunks. Iterate it, or use it as a context manager.

    Leaving the loop early (``break``) and calling :meth:`close` both close the
    connection, so the gateway can cancel the upstream request.
    """

    def __init__(self, response: httpx.Response, cast: Callable[[Any], T]) -> None:
        self.response = response
        self._cast = cast
        self._iterator = self._iterate()

    def _iterate(self) -> Iterator[T]:
        decoder = _EventDecoder()
        try:
            for line in self.response.iter_lines():
                payload = decoder.feed(line)
                if payload is None:
                    continue
                chunk = _decode(payload, self._cast)
                if chunk is None:
                    return
                yield chunk
            payload = decoder.flush()
            if payload is not None:
                chunk = _decode(payload, self._cast)
                if chunk is not None:
                    yield chunk
        except httpx.TransportError as error:
            raise APIConnectionError(f"stream broke: {error}") from error
        finally:
            self.response.close()

    def __iter__(self) -> Iterator[T]:
        return self._iterator

    def __next__(self) -> T:
        return next(self._iterator)

    def __enter__(self) -> "Stream[T]":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        self._iterator.close()
        self.response.close()


class AsyncStream(Generic[T]):
    """The asynchronous counterpart of :class:`Stream`: ``async for chunk in stream``."""

    def __init__(self, response: httpx.Response, cast: Callable[[Any], T]) -> None:
        self.response = response
        self._cast = cast
        self._iterator = self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        decoder = _EventDecoder()
        try:
            async for line in self.response.aiter_lines():
                payload = decoder.feed(line)
                if payload is None:
                    continue
                chunk = _decode(payload, self._cast)
                if chunk is None:
                    return
                yield chunk
            payload = decoder.flush()
            if payload is not None:
                chunk = _decode(payload, self._cast)
                if chunk is not None:
                    yield chunk
        except httpx.TransportError as error:
            raise APIConnectionError(f"stream broke: {error}") from error
        finally:
            await self.response.aclose()

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterator

    async def __anext__(self) -> T:
        return await self._iterator.__anext__()

    async def __aenter__(self) -> "AsyncStream[T]":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self._iterator.aclose()
        await self.response.aclose()
