"""Logs and error reports without a NIR or an IBAN in clear.

- :func:`mask_sensitive` masks anything shaped like a NIR (``1 •• •• •• ••• ••• 78``) or an
  IBAN (``FR76 •••• 1234``, as ``entraide.core.masking`` shows it everywhere) in a text. A NIR
  is recognised by its shape alone, key or no key (a mistyped NIR is still somebody's); an IBAN
  by a country of the IBAN registry and exactly that country's length, so that a typo is
  masked and a random reference is not.
- :class:`SensitiveDataFilter` (on the console handler) masks the message, its arguments and the
  extra fields of every record; the formatters mask the tracebacks.
- :class:`RequestContextFilter` adds the request id and the user id (never the e-mail).
- :class:`SensitiveExceptionReporterFilter` is ``DEFAULT_EXCEPTION_REPORTER_FILTER``: the
  technical 500 page and the e-mails to ``ADMINS`` hide identifiers, passwords and tokens.
"""

from __future__ import annotations

import logging
import re
from collections.abc import ItemsView, Mapping
from functools import cache
from types import TracebackType
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.utils.functional import LazyObject
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from entraide.core.masking import mask_identifier
from entraide.core.request_id import current_request, current_request_id

# A NIR: sex, year, month, department (2A/2B for Corsica), commune, order, key; typed with or
# without single spaces or dots between the groups.
_NIR = re.compile(
    r"(?<![0-9A-Za-z])([12])[ .]?\d{2}[ .]?\d{2}[ .]?(?:\d{2}|2[ABab])[ .]?\d{3}[ .]?\d{3}"
    r"[ .]?(\d{2})(?![0-9A-Za-z])"
)
# Where an IBAN may start: two letters and two check digits at the start of a word.
_IBAN_START = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]{2})(\d{2})")
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@cache
def _iban_length(country: str) -> int | None:
    """The length of the country's IBANs in the registry schwifty ships, None if it has none."""
    from schwifty import exceptions, registry

    try:
        return registry.get_iban_spec(country).iban_length
    except exceptions.InvalidCountryCode:
        return None


def _iban_end(text: str, start: int, length: int) -> int | None:
    """Where an IBAN of ``length`` characters starting at ``start`` ends (single spaces allowed
    between its characters), if it ends at the end of a word."""
    count = 0
    position = start
    while position < len(text) and count < length:
        char = text[position]
        if char in _ALNUM:
            count += 1
        elif not (char == " " and count and position + 1 < len(text) and text[position + 1] != " "):
            break
        position += 1
    if count != length or (position < len(text) and text[position] in _ALNUM):
        return None
    return position


def _mask_ibans(text: str) -> str:
    parts: list[str] = []
    done = 0
    for match in _IBAN_START.finditer(text):
        if match.start() < done:
            continue
        length = _iban_length(match.group(1).upper())
        if length is None:
            continue
        end = _iban_end(text, match.start(), length)
        if end is None:
            continue
        parts += [text[done : match.start()], mask_identifier(text[match.start() : end])]
        done = end
    if not parts:
        return text
    return "".join(parts) + text[done:]


def mask_sensitive(text: str) -> str:
    """The text with every NIR and IBAN in it masked (their first and last characters kept)."""
    if not any(char.isdigit() for char in text):  # the common case, cheaply
        return text
    text = _NIR.sub(lambda m: f"{m.group(1)} •• •• •• ••• ••• {m.group(2)}", text)
    return _mask_ibans(text)


def mask_data(value: Any) -> Any:
    """Strings masked inside dicts, lists and tuples, whatever their depth."""
    if isinstance(value, str):
        return mask_sensitive(value)
    if isinstance(value, Mapping):
        return {key: mask_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_data(item) for item in value)
    return value


# Names of fields and variables whose values are never shown: identifiers, bank details,
# passwords, tokens, keys.
SENSITIVE_NAMES = re.compile(
    r"nir|iban|bic|pass|token|secret|key|otp|signature|authorization|cookie|dsn", re.I
)

# The attributes every LogRecord has; anything else was passed in ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class SensitiveDataFilter(logging.Filter):
    """Masks NIRs and IBANs in a record's message, arguments and extra fields.

    The message is formatted here (once, as the handler would) so that an argument of any type
    (a dict, an exception, a model instance) is masked in what it prints as."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, Mapping):
            try:
                message = record.getMessage()
            except Exception:  # a bad format string: the handler reports it as usual
                return True
            record.msg, record.args = mask_sensitive(message), ()
        else:
            record.msg = mask_data(record.msg)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES and isinstance(value, str | Mapping | list | tuple):
                setattr(record, name, mask_data(value))
        return True


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` to the records written during a request (the user
    once it is known), so that the lines of one request can be found together."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None:
            record.request_id = request_id
        user_id = _user_id(current_request.get())
        if user_id is not None:
            record.user_id = user_id
        return True


def _user_id(request: HttpRequest | None) -> int | None:
    """The id of the request's user if it was already loaded: a log line must never cost a
    query (nor recurse through the database's own logging)."""
    if request is None:
        return None
    user = vars(request).get("user")
    if isinstance(user, LazyObject):
        user = vars(request).get("_cached_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    pk = user.pk
    return pk if isinstance(pk, int) else None


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class TextFormatter(logging.Formatter):
    """Plain text, the default (development); tracebacks masked too."""

    def __init__(
        self, fmt: str | None = None, datefmt: str | None = None, style: Any = "%", **kwargs: Any
    ) -> None:
        kwargs.setdefault("defaults", {"request_id": "-"})
        super().__init__(fmt or TEXT_FORMAT, datefmt, style, **kwargs)

    def formatException(self, ei: _ExcInfo) -> str:
        return mask_sensitive(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return mask_sensitive(super().formatStack(stack_info))


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, user_id (and any
    extra field); tracebacks masked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "fmt", ["asctime", "levelname", "name", "message", "request_id", "user_id"]
        )
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    # One string each (exc_info_as_array is not used here).
    def formatException(self, ei: _ExcInfo) -> str:
        formatted = super().formatException(ei)
        return mask_sensitive(formatted if isinstance(formatted, str) else "\n".join(formatted))

    def formatStack(self, stack_info: str) -> str:
        formatted = super().formatStack(stack_info)
        return mask_sensitive(formatted if isinstance(formatted, str) else "\n".join(formatted))


class _Shown:
    """A value the technical error report prints as the given (masked) text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class SensitiveExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, active even with DEBUG on, that also hides the settings, POST
    parameters and local variables named like an identifier or a secret, and masks NIRs and
    IBANs in every other value it shows."""

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DSN|NIR|IBAN|BIC", flags=re.I
    )

    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        return mask_sensitive(cleansed) if isinstance(cleansed, str) else cleansed

    def cleanse_parameters(self, parameters: MultiValueDict[str, Any]) -> MultiValueDict[str, Any]:
        """A copy of a QueryDict (POST, GET) with sensitive names hidden, other values masked."""
        cleansed = parameters.copy()
        for name in cleansed:
            if SENSITIVE_NAMES.search(name):
                cleansed.setlist(name, [self.cleansed_substitute])
            else:
                cleansed.setlist(name, [mask_data(v) for v in cleansed.getlist(name)])
        return cleansed

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None:
            return {}
        parameters: Any = super().get_post_parameters(request)  # a QueryDict
        return self.cleanse_parameters(parameters)

    def get_traceback_frame_variables(
        self, request: HttpRequest | None, tb_frame: Any
    ) -> ItemsView[str, Any]:
        variables = {}
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if SENSITIVE_NAMES.search(name):
                value = self.cleansed_substitute
            elif isinstance(value, str):
                value = mask_sensitive(value)
            elif isinstance(value, MultiValueDict):
                value = self.cleanse_parameters(value)
            else:
                try:
                    shown = repr(value)
                except Exception:  # the report shows its own message for these
                    shown = None
                if shown is not None and mask_sensitive(shown) != shown:
                    value = _Shown(mask_sensitive(shown))
            variables[name] = value
        return variables.items()


class SensitiveExceptionReporter(ExceptionReporter):
    """Django's technical 500 report (page and e-mail) with the exception's message and the
    query string masked too."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        for key in ("exception_value", "request_insecure_uri"):
            if isinstance(data.get(key), str):
                data[key] = mask_sensitive(data[key])
        if self.request is not None and isinstance(self.filter, SensitiveExceptionReporterFilter):
            data["request_GET_items"] = self.filter.cleanse_parameters(self.request.GET).items()
        return data
