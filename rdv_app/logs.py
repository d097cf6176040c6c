"""Structured logs without personal data (issue 27).

In production (`cli serve`, `cli worker`; not the demo, whose log shows its SMS on purpose) every record
is one JSON line: time, level, logger, message, and the context of what was running — `event_id` (an HTTP
request, a Reflex event, an outbox message's attempt), `organisation_id`, `handler` — set by
`context(...)` in the HTTP middleware (rdv_app.api.http), around each event handler
(rdv_app.state.typed_event), each domain event handler (rdv_app.db.uow) and each outbox message
(rdv_app.notify.worker). RDV_LOG_FORMAT=json|text chooses the format whatever the mode.

`PersonalDataFilter`, on the handler so that every logger's records pass through it:
- an argument of a record is kept only when it cannot be a person's words: a number, a date, an enum,
  a lowercase identifier (`sms`, `purge_plages`, `rdv_app.notify`), or a text the code vouches for with
  `technical(...)` (a provider's error, a host); any other text (a name, a subject) becomes `[masqué]`;
- then, over the whole message (and whatever an f-string put there): emails, phone numbers, the tokens of
  links (`/r/<id>/<jeton>`, `?tkn=`), bearer tokens, long secrets and IP addresses are masked;
- an exception keeps its type and its stack, never its message: a database error quotes the values it
  refused, names and phone numbers included (as rdv_app.error_tracking does for Sentry).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import decimal
import enum
import json
import logging
import os
import re
import sys
import traceback
import uuid
from collections.abc import Iterator
from types import TracebackType
from typing import Any

MASKED = "[masqué]"
FORMAT_SETTING = "RDV_LOG_FORMAT"

_event_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("rdv_log_event_id", default=None)
_organisation_id: contextvars.ContextVar[int | str | None] = contextvars.ContextVar("rdv_log_organisation_id",
                                                                                     default=None)
_handler: contextvars.ContextVar[str | None] = contextvars.ContextVar("rdv_log_handler", default=None)
_FIELDS: dict[str, contextvars.ContextVar[Any]] = {"event_id": _event_id, "organisation_id": _organisation_id,
                                                   "handler": _handler}


def new_event_id() -> str:
    return uuid.uuid4().hex[:16]


@contextlib.contextmanager
def context(*, event_id: str | None = None, organisation_id: int | str | None = None,
            handler: str | None = None) -> Iterator[None]:
    """The records of the block carry these fields (a field not given keeps its outer value). The outer
    values come back by assignment, not by token, so that a generator closed elsewhere cannot fail."""
    given = {"event_id": event_id, "organisation_id": organisation_id, "handler": handler}
    previous = {name: var.get() for name, var in _FIELDS.items()}
    for name, value in given.items():
        if value is not None and value != "":
            _FIELDS[name].set(value)
    try:
        yield
    finally:
        for name, var in _FIELDS.items():
            var.set(previous[name])


def current() -> dict[str, Any]:
    return {name: var.get() for name, var in _FIELDS.items() if var.get() is not None}


class Technical(str):
    """A text argument the code vouches for (an error kind, a host): kept, still passed through the masks."""


def technical(text: str) -> Technical:
    return Technical(text)


# --------------------------------------------------------------------------------------------- masks

_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[^\s,;\"']+"), r"\1 " + MASKED),
    (re.compile(r"(/r/\d+/)[^\s/?#\"']+"), r"\1" + MASKED),
    (re.compile(r"(?i)([?&;](?:tkn|token|jeton|ticket|code|state|invitation_token|preuve|secret)=)[^&\s\"'#]+"),
     r"\1" + MASKED),
    (re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?<![\w.])(?:\+|00)[1-9](?:[ .-]?\d){7,14}(?!\d)"), "[téléphone]"),
    (re.compile(r"(?<![\w.])0[1-9](?:[ .-]?\d{2}){4}(?!\d)"), "[téléphone]"),
    (re.compile(r"\b[0-9a-fA-F]{32,}\b"), MASKED),
    (re.compile(r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{24,}\b"), MASKED),
    (re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"), "[ip]"),
)


def mask_text(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


# A text argument that cannot be a person's words: lowercase identifiers, module and file paths, keys.
_IDENTIFIER = re.compile(r"[a-z0-9_.:/\-]{0,100}")
_SAFE_TYPES = (int, float, decimal.Decimal, dt.date, dt.time, dt.timedelta, enum.Enum, uuid.UUID, type(None))


def _safe_argument(value: object) -> object:
    if isinstance(value, Technical):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value if isinstance(value.value, int | str) else value.name
    if isinstance(value, _SAFE_TYPES):
        return value
    if isinstance(value, str) and _IDENTIFIER.fullmatch(value):
        return value
    if isinstance(value, BaseException):
        return type(value).__name__
    if isinstance(value, list | tuple | set | frozenset) and all(isinstance(v, int) for v in value):
        return sorted(value) if isinstance(value, set | frozenset) else value
    return MASKED


def safe_traceback(exc_info: tuple[type[BaseException], BaseException, TracebackType | None]) -> str:
    """The stack of an exception and of its causes, with their types but none of their messages."""
    lines: list[str] = []
    seen: set[int] = set()
    exception: BaseException | None = exc_info[1]
    chain: list[BaseException] = []
    while exception is not None and id(exception) not in seen:
        seen.add(id(exception))
        chain.append(exception)
        exception = exception.__cause__ or (None if exception.__suppress_context__ else exception.__context__)
    for index, item in enumerate(reversed(chain)):
        if index:
            lines.append("During the handling of the exception above, another one was raised:")
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(item.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        lines.append(f"{type(item).__module__}.{type(item).__qualname__} (message non journalisé)")
    return "\n".join(lines)


class PersonalDataFilter(logging.Filter):
    """Rewrites each record without personal data (see the module docstring) and adds the context fields.
    Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_rdv_masked", False):
            return True
        try:
            if record.args:
                args = record.args
                safe: Any = ({key: _safe_argument(value) for key, value in args.items()} if isinstance(args, dict)
                             else tuple(_safe_argument(value) for value in args))
                message = str(record.msg) % safe
            else:
                message = str(record.msg)
        except Exception:  # a malformed call: say so, without its arguments
            message = f"{record.msg!s} (arguments non journalisés)"
        record.msg, record.args = mask_text(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = safe_traceback(record.exc_info)  # type: ignore[arg-type]
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        for name, value in current().items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        record._rdv_masked = True
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name in _FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = safe_traceback(record.exc_info)  # type: ignore[arg-type]
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.context = " ".join(f"{name}={getattr(record, name)}" for name in _FIELDS
                                  if getattr(record, name, None) is not None)
        return super().format(record)


# Loggers of the servers that keep handlers of their own: their records go through ours instead.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "granian", "_granian", "granian.access",
                   "sqlalchemy", "alembic", "httpx", "aiosmtplib")


def production_handler(json_lines: bool = True, stream: Any = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(PersonalDataFilter())
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    handler.set_name("rdv-app")
    return handler


def wanted_format(demo: bool) -> str | None:
    """json, text, or None (leave logging alone: the demo, unless RDV_LOG_FORMAT says otherwise)."""
    value = os.environ.get(FORMAT_SETTING, "").strip().lower()
    if value in ("json", "text"):
        return value
    if value:
        raise RuntimeError(f"{FORMAT_SETTING} doit valoir json ou text (reçu : {value!r}).")
    return None if demo else "json"


def configure_logging(demo: bool | None = None, level: int = logging.INFO) -> bool:
    """Installs the masked handler on the root logger (once per process); whether it did."""
    if demo is None:
        from rdv_app.config import demo_mode

        demo = demo_mode()
    chosen = wanted_format(demo)
    if chosen is None:
        return False
    root = logging.getLogger()
    if any(handler.get_name() == "rdv-app" for handler in root.handlers):
        return True
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(production_handler(json_lines=chosen == "json"))
    root.setLevel(level)
    for name in _SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        for handler in list(server_logger.handlers):
            server_logger.removeHandler(handler)
        server_logger.propagate = True
    return True
