"""Typed results of the Weir API.

Each class is a dataclass built from the gateway's JSON by :func:`from_json`. Fields the
gateway adds later are kept in ``extra`` rather than dropped, so an older client still
sees them.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Type, TypeVar, Union

T = TypeVar("T")


def from_json(cls: Type[T], data: Any) -> T:
    """Convert decoded JSON ``data`` into an instance of the dataclass ``cls``.

    Nested dataclasses, ``List[...]``, ``Dict[str, ...]`` and ``Optional[...]`` fields are
    converted recursively. Keys that are not fields go to ``extra``.
    """
    return _convert(cls, data)  # type: ignore[no-any-return]


def _convert(annotation: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(annotation)
    if origin is Union:
        arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _convert(arguments[0], value) if len(arguments) == 1 else value
    if origin in (list, List) and isinstance(value, list):
        (item_type,) = typing.get_args(annotation) or (Any,)
        return [_convert(item_type, item) for item in value]
    if origin in (dict, Dict) and isinstance(value, dict):
        arguments = typing.get_args(annotation)
        value_type = arguments[1] if len(arguments) == 2 else Any
        return {key: _convert(value_type, item) for key, item in value.items()}
    if dataclasses.is_dataclass(annotation) and isinstance(value, dict):
        return _convert_dataclass(annotation, value)
    return value


def _convert_dataclass(cls: Any, value: Dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    names = {f.name for f in dataclasses.fields(cls) if f.init and f.name != "extra"}
    arguments = {name: _convert(hints[name], value[name]) for name in names if name in value}
    instance = cls(**arguments)
    if hasattr(instance, "extra"):
        instance.extra = {key: item for key, item in value.items() if key not in names}
    return instance


# OpenAI-compatible API


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ChatMessage:
    role: str = "assistant"
    content: Optional[str] = None
    reasoning_content: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ChatChoice:
    index: int = 0
    message: ChatMessage = field(default_factory=ChatMessage)
    finish_reason: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ChatCompletion:
    """A whole chat response (``object == "chat.completion"``)."""

    id: str = ""
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    choices: List[ChatChoice] = field(default_factory=list)
    usage: Optional[Usage] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def text(self) -> str:
        """The content of the first choice, or an empty string."""
        if not self.choices or self.choices[0].message.content is None:
            return ""
        return self.choices[0].message.content


@dataclass
class ChatDelta:
    role: Optional[str] = None
    content: Optional[str] = None
    reasoning_content: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ChatChunkChoice:
    index: int = 0
    delta: ChatDelta = field(default_factory=ChatDelta)
    finish_reason: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ChatCompletionChunk:
    """One server-sent event of a streamed chat response (``object == "chat.completion.chunk"``)."""

    id: str = ""
    object: str = "chat.completion.chunk"
    created: int = 0
    model: str = ""
    choices: List[ChatChunkChoice] = field(default_factory=list)
    usage: Optional[Usage] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def text(self) -> str:
        """The content delta of the first choice, or an empty string."""
        if not self.choices or self.choices[0].delta.content is None:
            return ""
        return self.choices[0].delta.content


@dataclass
class CompletionChoice:
    index: int = 0
    text: str = ""
    finish_reason: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Completion:
    id: str = ""
    object: str = "text_completion"
    created: int = 0
    model: str = ""
    choices: List[CompletionChoice] = field(default_factory=list)
    usage: Optional[Usage] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Embedding:
    index: int = 0
    embedding: List[float] = field(default_factory=list)
    object: str = "embedding"
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class EmbeddingList:
    data: List[Embedding] = field(default_factory=list)
    model: str = ""
    usage: Optional[Usage] = None
    object: str = "list"
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Model:
    id: str = ""
    object: str = "model"
    created: int = 0
    owned_by: str = "weir"
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


# Conversations


@dataclass
class ConversationMessage:
    role: str = ""
    content: str = ""
    created_at: Optional[int] = None  # Unix seconds.
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Conversation:
    """A chat history kept by the gateway. ``messages`` is empty in list results.

    ``created_at`` and ``updated_at`` are Unix seconds.
    """

    id: Any = None
    title: Optional[str] = None
    model: Optional[str] = None
    created_at: Optional[int] = None
    updated_at: Optional[int] = None
    messages: List[ConversationMessage] = field(default_factory=list)
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Deleted:
    id: Any = None
    deleted: bool = False
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


# Admin API


@dataclass
class Quota:
    """Per-user overrides of the role's limits; ``None`` means the role default applies."""

    requests_per_second: Optional[float] = None
    burst: Optional[float] = None
    tokens_per_minute: Optional[int] = None
    daily_tokens: Optional[int] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class User:
    id: Any = None
    name: str = ""
    role: str = ""
    team: Optional[str] = None
    created_at: Optional[int] = None  # Unix seconds.
    disabled: bool = False
    has_password: bool = False
    quota: Optional[Quota] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class KeyInfo:
    id: Any = None
    prefix: str = ""
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Me:
    """The caller's identity: ``GET /admin/v1/me``."""

    user: User = field(default_factory=User)
    key: Optional[KeyInfo] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Team:
    id: Any = None
    name: str = ""
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ApiKey:
    """An API key record. ``key`` contains the secret only in the response to ``create``.

    Times are Unix seconds; ``expires_at`` and ``revoked_at`` are ``None`` when unset.
    """

    id: Any = None
    prefix: str = ""
    user_id: Any = None
    name: Optional[str] = None
    created_at: Optional[int] = None
    expires_at: Optional[int] = None
    revoked_at: Optional[int] = None
    models: Optional[List[str]] = None
    key: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Revoked:
    id: Any = None
    revoked: bool = False
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class AuditEvent:
    """One audited request. ``time`` is Unix milliseconds; token counts are estimates
    when ``tokens_estimated`` is true."""

    id: Any = None
    time: Optional[int] = None
    request_id: Optional[str] = None
    user_id: Any = None
    user: Optional[str] = None
    team: Optional[str] = None
    key_prefix: Optional[str] = None
    role: Optional[str] = None
    client_ip: Optional[str] = None
    method: Optional[str] = None
    route: Optional[str] = None
    model: Optional[str] = None
    upstream: Optional[str] = None
    status: Optional[int] = None
    error_code: Optional[str] = None
    latency_ms: Optional[float] = None
    ttft_ms: Optional[float] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    cached_tokens: Optional[int] = None
    reasoning_tokens: Optional[int] = None
    tokens_estimated: Optional[bool] = None
    params: Any = None
    request_summary: Optional[str] = None
    response_summary: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class AuditPage:
    """One page of audit search results; pass ``next_cursor`` back as ``cursor`` for the next."""

    data: List[AuditEvent] = field(default_factory=list)
    next_cursor: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ModelParams:
    default_max_tokens: Optional[int] = None
    max_tokens_limit: Optional[int] = None
    temperature_min: Optional[float] = None
    temperature_max: Optional[float] = None
    system_prompt: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class UpstreamStatus:
    """An upstream's live state as the router sees it; ``ewma_ms`` is the latency average."""

    id: Any = None
    url: str = ""
    version: Optional[str] = None
    weight: Optional[float] = None
    canary_weight: Optional[float] = None
    state: Optional[str] = None  # healthy, ejected or half_open.
    outstanding: Optional[int] = None
    ewma_ms: Optional[float] = None
    consecutive_failures: Optional[int] = None
    requests: Optional[int] = None
    failures: Optional[int] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ModelConfig:
    name: str = ""
    params: ModelParams = field(default_factory=ModelParams)
    upstreams: List[UpstreamStatus] = field(default_factory=list)
    registered_at_runtime: bool = False
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class UsageRow:
    """Usage summed over one group: a day (``YYYY-MM-DD``), a user name or a model name."""

    key: str = ""
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)
