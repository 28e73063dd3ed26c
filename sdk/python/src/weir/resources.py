"""API resources. Each method sends one request through its client.

With :class:`weir.Weir` a method returns its result; with :class:`weir.AsyncWeir` it returns
an awaitable of the same result. ``stream=True`` returns a :class:`weir.Stream` (or, awaited,
a :class:`weir.AsyncStream`) of :class:`weir.types.ChatCompletionChunk`.
"""

from __future__ import annotations

import inspect
from typing import Any, AsyncIterator, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union
from urllib.parse import quote

from . import types
from .types import from_json

Message = Mapping[str, Any]


def _cast(cls: Any) -> Any:
    return lambda data: from_json(cls, data)


def _cast_list(cls: Any) -> Any:
    return lambda data: [from_json(cls, item) for item in (data.get("data") or [])]


def _without_none(**values: Any) -> Dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _segment(value: Any) -> str:
    return quote(str(value), safe="")


class _Resource:
    def __init__(self, client: Any) -> None:
        self._client = client

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._client._request(method, path, **kwargs)


class ChatCompletions(_Resource):
    def create(
        self,
        *,
        model: str,
        messages: Sequence[Message],
        stream: bool = False,
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        max_tokens: Optional[int] = None,
        stop: Optional[Union[str, List[str]]] = None,
        **extra: Any,
    ) -> Any:
        """``POST /v1/chat/completions``: a :class:`ChatCompletion`, or a stream of chunks.

        ``extra`` passes any other OpenAI parameter through unchanged.
        """
        body = _without_none(
            model=model, messages=list(messages), temperature=temperature, top_p=top_p,
            max_tokens=max_tokens, stop=stop, **extra,
        )
        if stream:
            body["stream"] = True
            body.setdefault("stream_options", {"include_usage": True})
            return self._request("POST", "/v1/chat/completions", body=body, stream=True,
                                 cast=_cast(types.ChatCompletionChunk))
        return self._request("POST", "/v1/chat/completions", body=body, cast=_cast(types.ChatCompletion))


class Chat(_Resource):
    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.completions = ChatCompletions(client)


class Completions(_Resource):
    def create(self, *, model: str, prompt: Union[str, List[str]], max_tokens: Optional[int] = None,
               temperature: Optional[float] = None, **extra: Any) -> Any:
        """``POST /v1/completions``: a :class:`Completion`."""
        body = _without_none(model=model, prompt=prompt, max_tokens=max_tokens, temperature=temperature, **extra)
        return self._request("POST", "/v1/completions", body=body, cast=_cast(types.Completion))


class Embeddings(_Resource):
    def create(self, *, model: str, input: Union[str, List[str]], **extra: Any) -> Any:
        """``POST /v1/embeddings``: an :class:`EmbeddingList`."""
        body = _without_none(model=model, input=input, **extra)
        return self._request("POST", "/v1/embeddings", body=body, cast=_cast(types.EmbeddingList))


class Models(_Resource):
    def list(self) -> Any:
        """``GET /v1/models``: the models this key may use, as a list of :class:`Model`."""
        return self._request("GET", "/v1/models", cast=_cast_list(types.Model))


class Conversations(_Resource):
    """Chat histories kept on the gateway (role ``user`` and above)."""

    def create(self, *, title: Optional[str] = None, model: Optional[str] = None) -> Any:
        return self._request("POST", "/v1/conversations", body=_without_none(title=title, model=model),
                             cast=_cast(types.Conversation))

    def list(self) -> Any:
        return self._request("GET", "/v1/conversations", cast=_cast_list(types.Conversation))

    def get(self, conversation_id: str) -> Any:
        return self._request("GET", f"/v1/conversations/{_segment(conversation_id)}", cast=_cast(types.Conversation))

    def delete(self, conversation_id: str) -> Any:
        return self._request("DELETE", f"/v1/conversations/{_segment(conversation_id)}", cast=_cast(types.Deleted))

    def send(
        self,
        conversation_id: str,
        content: str,
        *,
        model: Optional[str] = None,
        stream: bool = False,
        temperature: Optional[float] = None,
        max_tokens: Optional[int] = None,
    ) -> Any:
        """Append ``content`` as a user message and return the reply, which the gateway also
        appends to the history: a :class:`ChatCompletion`, or a stream of chunks."""
        body = _without_none(content=content, model=model, temperature=temperature, max_tokens=max_tokens)
        path = f"/v1/conversations/{_segment(conversation_id)}/messages"
        if stream:
            body["stream"] = True
            return self._request("POST", path, body=body, stream=True, cast=_cast(types.ChatCompletionChunk))
        return self._request("POST", path, body=body, cast=_cast(types.ChatCompletion))


class Users(_Resource):
    def create(self, *, name: str, role: str, team: Optional[str] = None, password: Optional[str] = None) -> Any:
        body = _without_none(name=name, role=role, team=team, password=password)
        return self._request("POST", "/admin/v1/users", body=body, cast=_cast(types.User))

    def list(self) -> Any:
        return self._request("GET", "/admin/v1/users", cast=_cast_list(types.User))

    def update(
        self,
        user_id: Any,
        *,
        role: Optional[str] = None,
        disabled: Optional[bool] = None,
        quota: Optional[Mapping[str, Any]] = None,
        password: Optional[str] = None,
    ) -> Any:
        """``PATCH /admin/v1/users/{id}``: change only the given fields."""
        body = _without_none(role=role, disabled=disabled, quota=dict(quota) if quota else None, password=password)
        return self._request("PATCH", f"/admin/v1/users/{_segment(user_id)}", body=body, cast=_cast(types.User))


class Teams(_Resource):
    def create(self, *, name: str) -> Any:
        return self._request("POST", "/admin/v1/teams", body={"name": name}, cast=_cast(types.Team))

    def list(self) -> Any:
        return self._request("GET", "/admin/v1/teams", cast=_cast_list(types.Team))


class Keys(_Resource):
    def create(
        self,
        *,
        user_id: Any = None,
        name: Optional[str] = None,
        expires_in_days: Optional[int] = None,
        models: Optional[Iterable[str]] = None,
    ) -> Any:
        """``POST /admin/v1/keys``: an :class:`ApiKey` whose ``key`` is the secret, shown only here.

        Without ``user_id`` the key belongs to the caller.
        """
        body = _without_none(user_id=user_id, name=name, expires_in_days=expires_in_days,
                             models=list(models) if models is not None else None)
        return self._request("POST", "/admin/v1/keys", body=body, cast=_cast(types.ApiKey))

    def list(self, *, user_id: Any = None) -> Any:
        return self._request("GET", "/admin/v1/keys", params={"user_id": user_id}, cast=_cast_list(types.ApiKey))

    def revoke(self, key_id: Any) -> Any:
        return self._request("DELETE", f"/admin/v1/keys/{_segment(key_id)}", cast=_cast(types.Revoked))


class Audit(_Resource):
    def search(
        self,
        *,
        user: Optional[str] = None,
        model: Optional[str] = None,
        status: Optional[int] = None,
        since: Optional[Union[str, int]] = None,
        until: Optional[Union[str, int]] = None,
        q: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> Any:
        """``GET /admin/v1/audit``: one :class:`AuditPage`, newest first.

        ``since`` and ``until`` are Unix seconds or UTC times like ``2026-12-04T10:00:00Z``;
        ``status`` is an HTTP status or a class 1 to 5; ``q`` is a full-text query over the
        summaries, route, error code, user and model.
        """
        params = dict(user=user, model=model, status=status, since=since, until=until, q=q, limit=limit, cursor=cursor)
        return self._request("GET", "/admin/v1/audit", params=params, cast=_cast(types.AuditPage))

    def iterate(self, **filters: Any) -> Union[Iterator[types.AuditEvent], AsyncIterator[types.AuditEvent]]:
        """Yield every matching event across pages (an async iterator with :class:`AsyncWeir`)."""
        if inspect.iscoroutinefunction(self._client._request):
            return self._iterate_async(filters)
        return self._iterate_sync(filters)

    def _iterate_sync(self, filters: Dict[str, Any]) -> Iterator[types.AuditEvent]:
        cursor = filters.pop("cursor", None)
        while True:
            page = self.search(cursor=cursor, **filters)
            yield from page.data
            if not page.next_cursor or not page.data:
                return
            cursor = page.next_cursor

    async def _iterate_async(self, filters: Dict[str, Any]) -> AsyncIterator[types.AuditEvent]:
        cursor = filters.pop("cursor", None)
        while True:
            page = await self.search(cursor=cursor, **filters)
            for event in page.data:
                yield event
            if not page.next_cursor or not page.data:
                return
            cursor = page.next_cursor


class AdminModels(_Resource):
    def list(self) -> Any:
        """``GET /admin/v1/models``: every model with its parameters and upstream health."""
        return self._request("GET", "/admin/v1/models", cast=_cast_list(types.ModelConfig))

    def update(self, name: str, *, params: Optional[Mapping[str, Any]] = None,
               upstream_weights: Optional[Mapping[str, float]] = None) -> Any:
        body = _without_none(params=dict(params) if params else None,
                             upstream_weights=dict(upstream_weights) if upstream_weights else None)
        return self._request("PATCH", f"/admin/v1/models/{_segment(name)}", body=body, cast=_cast(types.ModelConfig))

    def create(self, *, name: str, upstreams: Sequence[Mapping[str, Any]]) -> Any:
        """``POST /admin/v1/models`` (superadmin): ``upstreams`` is ``[{"url", "weight"}]``."""
        body = {"name": name, "upstreams": [dict(upstream) for upstream in upstreams]}
        return self._request("POST", "/admin/v1/models", body=body, cast=_cast(types.ModelConfig))


class Admin(_Resource):
    """The admin API under ``/admin/v1`` (``me`` works for every role)."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.users = Users(client)
        self.teams = Teams(client)
        self.keys = Keys(client)
        self.audit = Audit(client)
        self.models = AdminModels(client)

    def me(self) -> Any:
        return self._request("GET", "/admin/v1/me", cast=_cast(types.Me))

    def usage(self, *, group_by: str = "day", since: Optional[str] = None, until: Optional[str] = None) -> Any:
        """``GET /admin/v1/usage``: a list of :class:`UsageRow`, grouped by ``day``, ``user`` or ``model``."""
        if group_by not in ("day", "user", "model"):
            raise ValueError(f"group_by={group_by!r} is invalid: use 'day', 'user' or 'model'")
        params = {"group_by": group_by, "since": since, "until": until}
        return self._request("GET", "/admin/v1/usage", params=params, cast=_cast_list(types.UsageRow))


class Auth(_Resource):
    """Web sessions: ``login`` stores the session cookie in the client for later calls."""

    def login(self, username: str, password: str) -> Any:
        return self._request("POST", "/auth/login", body={"username": username, "password": password})

    def logout(self) -> Any:
        return self._request("POST", "/auth/logout")
