"""Every check that refuses an argument before anything is sent.

One home for them, so that a new argument gets its check from here and every refusal reads the
same: an `InvalidInputError` naming the field and the problem, never echoing a secret. The
primitives come first (one integer check, numbers, strings, choices, kinds, paths) and every
other check is written with them; `validator()` makes any of them an attrs validator. What a
check needs from another module is passed in, never imported here: this module is on the
import path of every client, so it imports only httpx and what httpx already loaded.
`tests/client/test_refusals_home.py` holds the rest of the package to it.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sized
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypeVar, overload
from urllib.parse import urlsplit

import httpx

from ._exceptions import InvalidInputError

if TYPE_CHECKING:
    import attrs

    from ._models.completion import ChatCompletionMessageToolCall

# The spec's path already starts with /v1, while OpenAI-style base URLs end with it.
API_VERSION_SUFFIX: Final = "/v1"

_T = TypeVar("_T")
_U = TypeVar("_U")
_V = TypeVar("_V")
_Sized = TypeVar("_Sized", bound=Sized)

# What a path must name: `parent` is a file yet to be written, whose folder must exist.
PathKind: TypeAlias = Literal["file", "folder", "folder or file", "parent"]


# -- the primitives: every other check is written with these --------------------------------


def check_int(
    field: str,
    value: object,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    optional: bool = False,
) -> int:
    """`value` as an int (never a bool) within [minimum, maximum], or None when `optional`;
    else the error naming `field`. The one integer check: every other one calls it."""
    if optional and value is None:
        return value  # type: ignore[return-value]
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        if minimum is not None and maximum is not None:
            wanted = f"an integer from {minimum} to {maximum}"
        elif minimum == 1:
            wanted = "a positive integer (>= 1)"
        elif minimum is not None:
            wanted = f"an integer >= {minimum}"
        else:
            wanted = "an integer"
        raise InvalidInputError(
            field, f"expected {wanted}{' or None' if optional else ''}, got {value!r}"
        )
    return value


def is_number(value: object, *, finite: bool = True) -> bool:
    """An int or float (never a bool), finite unless told otherwise."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and (not finite or math.isfinite(value))
    )


def check_number(
    field: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
    optional: bool = False,
    finite: bool = True,
    unit: str = "a number",
) -> float:
    """`value` as a finite number (never a bool) that is > 0 when `positive` and within
    [minimum, maximum]; None when `optional`; else the error naming `field` and the `unit`."""
    if optional and value is None:
        return value  # type: ignore[return-value]
    if (
        not is_number(value, finite=finite)
        or (positive and not value > 0)  # type: ignore[operator]
        or (minimum is not None and not value >= minimum)  # type: ignore[operator]
        or (maximum is not None and not value <= maximum)  # type: ignore[operator]
    ):
        if minimum is not None and maximum is not None:
            wanted = f"{unit} from {minimum} to {maximum}"
        elif positive:
            wanted = "a positive number" if unit == "a number" else f"{unit} > 0"
        elif minimum is not None:
            wanted = f"{unit} >= {minimum}"
        else:
            wanted = unit
        raise InvalidInputError(
            field, f"expected {wanted}{' or None' if optional else ''}, got {value!r}"
        )
    return value  # type: ignore[return-value]


def check_positive(name: str, value: object, *, optional: bool = False) -> None:
    """A finite number > 0 (not a bool), or None when `optional`; else the error naming `name`."""
    check_number(name, value, positive=True, optional=optional)


def check_bool(field: str, value: object, *, optional: bool = False) -> bool:
    """True or False (or None when `optional`), never a truthy stand-in such as 1 or "yes"."""
    if not isinstance(value, bool) and not (optional and value is None):
        wanted = "True, False or None" if optional else "True or False"
        raise InvalidInputError(field, f"expected {wanted}, got {value!r}")
    return value  # type: ignore[return-value]


def check_str(field: str, value: object) -> str:
    """`value` if it is a string UTF-8 can carry, or the error naming `field` (the value
    itself not shown)."""
    if not isinstance(value, str):
        raise InvalidInputError(field, f"expected a string, got {type(value).__name__}")
    check_text(field, value)
    return value


def check_optional_str(field: str, value: object) -> str | None:
    """None, or what `check_str` takes."""
    return None if value is None else check_str(field, value)


def check_nonempty_str(field: str, value: object) -> str:
    """A string with more than whitespace in it, that UTF-8 can carry (a model, a prompt,
    a column name); else the error naming `field`."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(field, f"expected a non-empty string, got {value!r}")
    check_text(field, value)
    return value


def check_text(field: str, value: str) -> None:
    """InvalidInputError naming `field` when `value` holds a lone UTF-16 surrogate (half an
    emoji cut at `max_tokens`, a file name that is not UTF-8): the request body is UTF-8,
    which cannot carry one. Refused rather than sent escaped: the text is broken, and a
    gateway would refuse it or answer about a replacement character."""
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        raise InvalidInputError(
            field,
            f"holds a lone UTF-16 surrogate (U+{code:04X}), which cannot be sent as UTF-8: "
            "repair the text or remove it",
        ) from None


def listed(values: Iterable[object]) -> str:
    """Choices as a message shows them: `'a', 'b', 'c'`."""
    return ", ".join(repr(value) for value in values)


def check_one_of(
    field: str, value: object, allowed: Collection[str], *, optional: bool = False
) -> str:
    """`value` if it is one of `allowed` (or None when `optional`), else the error listing them
    in their order (a tuple's, or a dict's keys')."""
    if optional and value is None:
        return value  # type: ignore[return-value]
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInputError(field, f"{value!r} is not one of {listed(allowed)}")
    return value


@overload
def check_instance(field: str, value: object, kinds: type[_T], what: str) -> _T: ...
@overload
def check_instance(
    field: str, value: object, kinds: tuple[type[_T], type[_U]], what: str
) -> _T | _U: ...
@overload
def check_instance(
    field: str, value: object, kinds: tuple[type[_T], type[_U], type[_V]], what: str
) -> _T | _U | _V: ...
def check_instance(field: str, value: object, kinds: Any, what: str) -> Any:
    """`value` if it is one of `kinds`, else "expected `what`, got <its type>"."""
    if not isinstance(value, kinds):
        raise InvalidInputError(field, f"expected {what}, got {type(value).__name__}")
    return value


def check_mapping(field: str, value: object, *, what: str = "a mapping") -> Mapping[Any, Any]:
    """`value` if it is a mapping (a dict, checked first as the common case)."""
    if type(value) is not dict and not isinstance(value, Mapping):
        raise InvalidInputError(field, f"expected {what}, got {type(value).__name__}")
    return value


def check_items(field: str, value: object, what: str) -> Iterable[Any]:
    """`value` if it is a list or other iterable of items: never a string, bytes or mapping,
    which iterate as letters, bytes or keys."""
    if type(value) is not list and (
        isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable)
    ):
        raise InvalidInputError(field, f"expected {what}, got {type(value).__name__}")
    return value


def check_nonempty(field: str, items: _Sized, what: str) -> _Sized:
    """`items` unless empty: "an empty list; give at least one `what`"."""
    if not items:
        raise InvalidInputError(field, f"an empty list; give at least one {what}")
    return items


def check_given(field: str, value: _T | None) -> _T:
    """`value` unless it is None (a required field left out): "missing"."""
    if value is None:
        raise InvalidInputError(field, "missing")
    return value


def check_has(data: Mapping[str, Any], key: str, field: str | None = None) -> Any:
    """`data[key]`, or "missing" naming `field` (the key itself unless given)."""
    if key not in data:
        raise InvalidInputError(key if field is None else field, "missing")
    return data[key]


def check_path(field: str, path: object) -> str:
    """`path` as a string, or the error naming `field` when it cannot name a file."""
    if not isinstance(path, str | os.PathLike):
        raise InvalidInputError(
            field, f"expected a str or os.PathLike path, got {type(path).__name__}"
        )
    source = os.fspath(path)
    if not isinstance(source, str):
        raise InvalidInputError(field, f"expected a text path, got {type(source).__name__}")
    if "\x00" in source:
        raise InvalidInputError(field, f"{source!r} contains a NUL character")
    if not source:
        raise InvalidInputError(field, "empty")
    return source


def check_exists(field: str, path: str | os.PathLike[str], kind: PathKind) -> None:
    """That `path` is an existing `kind` of path, or the error naming `field`."""
    shown = repr(os.fspath(path))
    if kind == "parent":
        if not os.path.isdir(os.path.dirname(os.path.realpath(path))):
            raise InvalidInputError(field, f"{shown}: its folder does not exist")
        return
    if kind == "folder or file":
        found = os.path.isdir(path) or os.path.isfile(path)
    else:
        found = os.path.isfile(path) if kind == "file" else os.path.isdir(path)
    if not found:
        raise InvalidInputError(field, f"{shown}: no such {kind}")


def relabel(error: InvalidInputError, field: str, *, about: str | None = None) -> InvalidInputError:
    """The same refusal said of `field`, the name the caller knows the argument by (an
    option, a manifest key); `about` names the value it was about."""
    problem = error.problem if about is None else f"{about}: {error.problem}"
    return InvalidInputError(field, problem)


def validator(
    check: Callable[..., object], **options: Any
) -> Callable[[object, attrs.Attribute[Any], Any], None]:
    """An attrs validator that runs `check(attribute name, value, **options)`: attrs classes
    take their field checks from here like every other caller."""
    if options:

        def run_with_options(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
            check(attribute.name, value, **options)

        return run_with_options

    def run(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        check(attribute.name, value)

    return run


# -- the client: base URL, key, headers, timeouts, and create()'s own arguments -------------

# `scheme://user:password@`: everything up to the authority's last "@".
_USERINFO: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@")


# A host name's labels as resolvers take them (letters, digits, hyphens; underscores, which
# service names use), at most 63 characters each.
_LABEL: Final = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\Z")


_MAX_HOST_CHARS: Final = 253


# RFC 9110 token characters, for header names; values: visible ASCII, space and tab.
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


_HEADER_VALUE: Final = re.compile(r"[\t\x20-\x7e]*\Z")


def _check_host(host: str, shown: str) -> None:
    """Refuse a host name no resolver takes, here rather than as a UnicodeError when sending."""
    if ":" in host or host.replace(".", "").isdigit():
        return  # an IP address, which httpx has already parsed
    name = host[:-1] if host.endswith(".") else host  # a trailing dot: fully qualified
    labels = name.split(".")
    problem = None
    if len(name) > _MAX_HOST_CHARS:
        problem = f"is {len(name)} characters long, over {_MAX_HOST_CHARS}"
    elif "" in labels:
        problem = "has an empty label (two dots in a row, or a leading dot)"
    else:
        bad = next((label for label in labels if not _LABEL.match(label)), None)
        if bad is not None:
            problem = (
                f"has a label over 63 characters ({bad[:20]}...)"
                if len(bad) > 63
                else f"has a label that is not letters, digits and inner hyphens ({bad!r})"
            )
    if problem is None:
        try:
            name.encode("idna")  # what the socket layer will do with it
        except UnicodeError as exc:
            problem = f"is not a valid host name ({exc})"
    if problem is not None:
        raise InvalidInputError("base_url", f"{shown!r}: the host {problem}")


def normalize_base_url(url: str | httpx.URL) -> str:
    """`https://gw.example/v1/` and `https://gw.example` both mean the same gateway here."""
    text = str(url).strip().rstrip("/")
    if _USERINFO.match(text):
        # httpx would send these as Basic auth in place of the key, and show them in logs.
        raise InvalidInputError(
            "base_url",
            f"{_USERINFO.sub(_hidden_userinfo, text)!r} has credentials in it (user:password@),"
            " which are refused; pass the key as api_key= (or set CHAT_IMAGE_API_KEY)",
        )
    try:
        parsed = httpx.URL(text)
        host = parsed.host  # decodes an `xn--` label, which may fail
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise InvalidInputError("base_url", f"{text!r} is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise InvalidInputError("base_url", f"{text!r} is not an http(s) URL with a host")
    if parsed.query or parsed.fragment:
        # The endpoint path is appended to the base URL: a query or fragment would swallow it.
        raise InvalidInputError("base_url", f"{text!r} has a query or fragment; give the URL only")
    if parsed.userinfo:
        raise InvalidInputError("base_url", "has credentials in it (user:password@), refused")
    _check_host(parsed.raw_host.decode("ascii"), text)
    if parsed.port is not None and not 0 < parsed.port <= 65535:
        raise InvalidInputError("base_url", f"{text!r}: port {parsed.port} is not in 1-65535")
    if text.endswith(API_VERSION_SUFFIX):
        text = text[: -len(API_VERSION_SUFFIX)]
    return text


def check_api_key(value: object) -> str:
    """The key without surrounding whitespace (a key read from a file ends in a newline).

    Anything that cannot travel in an HTTP header is refused here, without echoing it: httpx
    would otherwise fail later with an error quoting the whole header.
    """
    if not isinstance(value, str):
        raise InvalidInputError("api_key", f"expected a string, got {type(value).__name__}")
    key = value.strip()
    if not (key.isascii() and key.isprintable()) or any(char.isspace() for char in key):
        raise InvalidInputError(
            "api_key", "contains spaces, control or non-ASCII characters (value not shown)"
        )
    return key


def _hidden_userinfo(match: re.Match[str]) -> str:
    scheme = match.group(0).split("://", 1)[0]
    return f"{scheme}://***@"


def check_headers(field: str, headers: object) -> dict[str, str]:
    """Headers as httpx can send them, or an InvalidInputError naming the one that cannot be.

    Values are never echoed: a header may well carry a secret.
    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidInputError(
            field, f"expected a mapping of header names to values, got {type(headers).__name__}"
        )
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise InvalidInputError(field, f"{name!r} is not a valid header name")
        where = f"{field}[{name!r}]"
        if not isinstance(value, str):
            raise InvalidInputError(where, f"expected a string, got {type(value).__name__}")
        if not _HEADER_VALUE.match(value):
            raise InvalidInputError(
                where,
                "has non-ASCII or control characters (value not shown); "
                "header values are ASCII text",
            )
    return dict(headers)


def check_max_retries(value: object, field: str = "max_retries") -> int:
    """An integer >= 0, or the error that names `field`."""
    return check_int(field, value, minimum=0)


def check_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout | None:
    """A number means that many seconds for every phase, as in httpx; None stays None."""
    if timeout is None:
        return None
    if isinstance(timeout, httpx.Timeout):
        for phase, value in timeout.as_dict().items():
            if value is not None and not positive_seconds(value):
                raise InvalidInputError(f"timeout.{phase}", f"expected seconds > 0, got {value!r}")
        return timeout
    if not positive_seconds(timeout):
        raise InvalidInputError(
            "timeout", f"expected seconds > 0 or an httpx.Timeout, got {timeout!r}"
        )
    return httpx.Timeout(float(timeout))


def check_seconds(field: str, value: object) -> float | None:
    """None, or a number of seconds > 0; else the error that names `field`."""
    if value is None:
        return None
    return float(check_number(field, value, positive=True, optional=True, unit="seconds"))


def positive_seconds(value: object) -> bool:
    return is_number(value) and value > 0  # type: ignore[operator]


def check_model(model: object) -> str:
    return check_nonempty_str("model", model)


def check_max_tokens(max_tokens: object) -> int:
    return check_int("max_tokens", max_tokens, minimum=1)


# The fields the signature names, so the generated model's own keys cannot be overridden.
_RESERVED: Final = frozenset({"model", "messages", "max_tokens", "stream", "stream_options"})


_NUMBERS: Final = frozenset({"temperature", "top_p", "presence_penalty", "frequency_penalty"})


_INTEGERS: Final = frozenset({"n", "seed"})


def _check_option(key: str, value: object) -> None:
    if key in _NUMBERS:
        # NaN and infinity pass here: check_json refuses them as what JSON cannot carry.
        check_number(key, value, finite=False)
    if key in _INTEGERS:
        check_int(key, value, minimum=1 if key == "n" else None)
    if key == "user":
        check_str(key, value)
    if key == "stop" and not (
        isinstance(value, str)
        or (isinstance(value, list | tuple) and all(isinstance(item, str) for item in value))
    ):
        raise InvalidInputError(key, f"expected a string or a list of strings, got {value!r}")


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Optional fields, refused here when they are of the wrong kind or not JSON."""
    for key, value in params.items():
        if key in _RESERVED:
            raise InvalidInputError(key, f"set it with the {key}= argument, not extra_body")
        if value is not None:
            _check_option(key, value)
        check_json(key, value)
    return dict(params)


def check_json(field: str, value: object) -> None:
    """InvalidInputError naming `field` unless `value` can be sent as strict JSON."""
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidInputError(field, f"cannot be sent as JSON ({exc})") from None
    check_text(field, text)


def check_http_client(
    http_client: object, expected: type[httpx.Client] | type[httpx.AsyncClient]
) -> None:
    if http_client is not None and not isinstance(http_client, expected):
        raise InvalidInputError(
            "http_client", f"expected an {expected.__name__}, got {type(http_client).__name__}"
        )


def check_max_response_bytes(value: object) -> int:
    return check_int("max_response_bytes", value, minimum=1)


# -- the typed request fields: structured output, tools, log probabilities, reasoning -------

# What OpenAI takes as a function or response-format name.
_NAME: Final = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
RESPONSE_FORMATS: Final = ("text", "json_object", "json_schema")
TOOL_CHOICES: Final = ("none", "auto", "required")
REASONING_EFFORTS: Final = ("none", "minimal", "low", "medium", "high", "xhigh")
_MAX_TOP_LOGPROBS: Final = 20
_MAX_BIAS: Final = 100


def _check_name(field: str, value: object) -> str:
    if value is None:
        raise InvalidInputError(field, "missing")
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidInputError(
            field, f"{value!r} is not a valid name (1 to 64 letters, digits, _ or -)"
        )
    return value


def _check_schema(field: str, value: object) -> None:
    if not isinstance(value, Mapping):
        raise InvalidInputError(field, f"expected a JSON Schema object, got {value!r}")


def _check_optional(field: str, data: Mapping[str, Any], key: str, kind: type, what: str) -> None:
    value = data.get(key)
    if value is not None and not isinstance(value, kind):
        raise InvalidInputError(f"{field}.{key}", f"expected {what}, got {value!r}")


def check_response_format(value: object) -> Mapping[str, Any]:
    """`response_format`: `{"type": "text" | "json_object"}`, or `json_schema` with its
    `{"name", "schema", "strict", "description"}` envelope."""
    if isinstance(value, type):
        # As the `openai` package says too: a class is a type to parse the answer into.
        raise InvalidInputError(
            "response_format",
            f"{value.__name__} is a type: give it to client.chat.completions.parse(), which "
            "sends its schema and reads the answer into it; create() takes a format dict",
        )
    data = check_mapping("response_format", value)
    kind = data.get("type")
    if kind is None:
        raise InvalidInputError("response_format.type", "missing")
    check_one_of("response_format.type", kind, RESPONSE_FORMATS)
    if kind == "json_schema":
        field = "response_format.json_schema"
        if data.get("json_schema") is None:
            raise InvalidInputError(field, "missing")
        envelope = check_mapping(field, data["json_schema"])
        _check_name(f"{field}.name", envelope.get("name"))
        if envelope.get("schema") is not None:
            _check_schema(f"{field}.schema", envelope["schema"])
        _check_optional(field, envelope, "strict", bool, "True or False")
        _check_optional(field, envelope, "description", str, "a string")
    check_json("response_format", data)
    return data


def _check_tool(field: str, tool: object) -> dict[str, Any]:
    from ._structured.tools import ToolDefinitionError, tool_definition

    try:
        data = tool_definition(tool)
    except ToolDefinitionError as exc:
        raise InvalidInputError(field, str(exc)) from None
    if data.get("type") is None:
        raise InvalidInputError(f"{field}.type", "missing")
    check_one_of(f"{field}.type", data["type"], ("function",))
    if data.get("function") is None:
        raise InvalidInputError(f"{field}.function", "missing")
    function = check_mapping(f"{field}.function", data["function"])
    _check_name(f"{field}.function.name", function.get("name"))
    if function.get("parameters") is not None:
        _check_schema(f"{field}.function.parameters", function["parameters"])
    _check_optional(f"{field}.function", function, "strict", bool, "True or False")
    _check_optional(f"{field}.function", function, "description", str, "a string")
    check_json(field, data)
    return data


def check_tools(value: object) -> list[dict[str, Any]]:
    """`tools`: tool dicts as OpenAI takes them, or functions, dataclasses, TypedDicts or
    pydantic models to build one from (`function_tool`); names must differ."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, list | tuple):
        raise InvalidInputError("tools", f"expected a list of tools, got {type(value).__name__}")
    if not value:
        raise InvalidInputError("tools", "empty; give at least one tool, or leave tools out")
    tools = []
    names: set[str] = set()
    for index, item in enumerate(value):
        tool = _check_tool(f"tools[{index}]", item)
        name = tool["function"]["name"]
        if name in names:
            raise InvalidInputError(
                f"tools[{index}].function.name", f"{name!r} is given twice; names must differ"
            )
        names.add(name)
        tools.append(tool)
    return tools


def check_tool_choice(value: object, tools: list[dict[str, Any]] | None) -> str | Mapping[str, Any]:
    """`tool_choice`: "none", "auto", "required", or `{"type": "function", "function":
    {"name": ...}}` naming one of `tools`; only with tools."""
    if tools is None:
        raise InvalidInputError("tool_choice", "only with tools=: there is no tool to choose")
    if isinstance(value, str):
        return check_one_of("tool_choice", value, TOOL_CHOICES)
    data = check_mapping("tool_choice", value)
    check_one_of("tool_choice.type", data.get("type"), ("function",))
    function = check_mapping("tool_choice.function", data.get("function"))
    name = _check_name("tool_choice.function.name", function.get("name"))
    known = [tool["function"]["name"] for tool in tools]
    if name not in known:
        raise InvalidInputError(
            "tool_choice.function.name", f"{name!r} is not one of the tools ({listed(known)})"
        )
    check_json("tool_choice", data)
    return data


def check_parallel_tool_calls(value: object, tools: list[dict[str, Any]] | None) -> bool:
    check_bool("parallel_tool_calls", value)
    if tools is None:
        raise InvalidInputError(
            "parallel_tool_calls", "only with tools=: it says how the tools are called"
        )
    return bool(value)


def check_top_logprobs(value: object, logprobs: object) -> int:
    top = check_int("top_logprobs", value, minimum=0, maximum=_MAX_TOP_LOGPROBS)
    if logprobs is not True:
        raise InvalidInputError("top_logprobs", "only with logprobs=True")
    return top


def check_logit_bias(value: object) -> dict[str, int]:
    """`logit_bias`: token ids (integers, or their decimal text) to a bias from -100 to 100."""
    data = check_mapping("logit_bias", value)
    bias: dict[str, int] = {}
    for token, amount in data.items():
        key = str(token) if isinstance(token, int) and not isinstance(token, bool) else token
        if not isinstance(key, str) or not key.isdigit():
            raise InvalidInputError("logit_bias", f"{token!r} is not a token id (an integer)")
        bias[key] = check_int(f"logit_bias.{key}", amount, minimum=-_MAX_BIAS, maximum=_MAX_BIAS)
    return bias


# -- content parts and messages: the shapes the caller builds a conversation from -----------

# The `detail` values of an image part, in the order messages list them.
IMAGE_DETAILS: Final = ("auto", "low", "high")
# Only the head of a data URL is checked: scanning a 20 MB payload would cost a copy's worth
# of time for no gain, and the gateway decodes it anyway.
_DATA_URL_HEAD: Final = re.compile(r"data:image/[A-Za-z0-9.+-]+;base64,", re.ASCII)


def check_detail(field: str, value: object) -> str | None:
    """An image's `detail`: "auto", "low", "high", or None (the gateway's default)."""
    return check_one_of(field, value, IMAGE_DETAILS, optional=True)


def check_image_url(field: str, url: object) -> str:
    """Refuse what the gateway cannot fetch or decode, without echoing a data URL's payload."""
    check_str(field, url)
    assert isinstance(url, str)
    head = url[:64]
    lowered = head.lower()
    if lowered.startswith(("https://", "http://")):
        if not urlsplit(head).netloc:
            raise InvalidInputError(field, f"{head!r} has no host")
        return url
    if lowered.startswith("data:"):
        if not _DATA_URL_HEAD.match(head):
            raise InvalidInputError(
                field, "a data URL must start with data:image/<type>;base64, (e.g. image/png)"
            )
        return url
    scheme = head.split(":", 1)[0] if ":" in head else ""
    shown = f"scheme {scheme!r}" if scheme else f"{head[:40]!r} (no scheme)"
    raise InvalidInputError(
        field, f"{shown} is not allowed; use an http(s) URL or a data:image/...;base64, URL"
    )


def check_json_fields(fields: Mapping[Any, Any]) -> None:
    """Extra fields sit beside the named ones in the JSON: each is named by its key."""
    for key, value in fields.items():
        if not isinstance(key, str):
            raise InvalidInputError("extra", f"field names must be strings, got {key!r}")
        check_json(key, value)


def check_extra(field: str, value: object) -> Mapping[str, Any]:
    """A part's or message's `extra`: a mapping of field names to JSON values."""
    # A dict is what nearly every call passes, and much cheaper to tell than the Mapping ABC
    # (this runs for every part and message of every request).
    fields = value if type(value) is dict else check_mapping(field, value)
    if fields:
        check_json_fields(fields)
    return fields


def check_unknown_part(field: str, value: object, known: Mapping[str, type]) -> None:
    """A part of a type this version does not model: a mapping with a string `type` that is
    none of the `known` part types (those have classes of their own)."""
    data = check_mapping("", value)
    part_type = data.get("type")
    if not isinstance(part_type, str) or not part_type:
        raise InvalidInputError("type", "a content part needs a non-empty string 'type'")
    if part_type in known:
        raise InvalidInputError(
            "type", f"{part_type!r} parts are {known[part_type].__name__}, not UnknownPart"
        )
    check_json_fields(data)


def check_image_url_object(field: str, data: object) -> Mapping[str, Any]:
    """A part dict's `image_url`: an object with a `url` (never the URL as a bare string)."""
    if isinstance(data, str):
        raise InvalidInputError(
            field, 'expected an object like {"url": "https://..."}, got a bare string'
        )
    image_url = check_mapping(field, data, what="an object")
    check_has(image_url, "url", f"{field}.url")
    return image_url


def check_estimable(field: str, *, size_known: bool, detail: object) -> None:
    """Tokens of an image are known from its pixel size, or at low detail without it."""
    if not size_known and detail != "low":
        raise InvalidInputError(
            field,
            "the pixel size of an image behind a URL is not known here; "
            "use estimate_image_tokens(width, height, detail)",
        )


def check_content(field: str, value: object) -> str | Iterable[Any]:
    """A message's `content`: text, or a list (any iterable) of parts to parse one by one."""
    if isinstance(value, str):
        check_text(field, value)
        return value
    return check_items(field, value, "a string or a list of parts")


def check_tool_call_id(field: str, value: object) -> str:
    """A tool message's `tool_call_id`: the id of the call it answers."""
    if not isinstance(value, str):
        raise InvalidInputError(field, f"expected a string, got {type(value).__name__}")
    if not value:
        raise InvalidInputError(field, "empty; give the id of the call answered")
    return value


def check_tool_call(where: str, call: ChatCompletionMessageToolCall) -> None:
    """A tool call replayed in an assistant message: an id, type "function", a function
    name and its arguments as JSON text."""
    if call.id is None:
        raise InvalidInputError(f"{where}.id", "missing")
    if not isinstance(call.id, str) or not call.id:
        raise InvalidInputError(f"{where}.id", f"expected a non-empty string, got {call.id!r}")
    if call.type != "function":
        raise InvalidInputError(f"{where}.type", f"{call.type!r} is not 'function'")
    if call.function is None:
        raise InvalidInputError(f"{where}.function", "missing")
    if call.function.name is None:
        raise InvalidInputError(f"{where}.function.name", "missing")
    if not isinstance(call.function.name, str):
        raise InvalidInputError(f"{where}.function.name", "expected a string")
    if not isinstance(call.function.arguments, str):
        raise InvalidInputError(
            f"{where}.function.arguments",
            f"expected the arguments as JSON text, got {call.function.arguments!r}",
        )
    check_json(where, dict(call.extra))
    check_json(f"{where}.function", dict(call.function.extra))


def check_text_parts(field: str, parts: Iterable[object], image_part: type) -> None:
    """A tool's result: text parts only (`image_part` is the class refused)."""
    for index, part in enumerate(parts):
        if isinstance(part, image_part):
            raise InvalidInputError(
                f"{field}[{index}]", "a tool's result takes text parts only, not images"
            )


def check_stream_options(options: object, stream: bool) -> Mapping[str, Any]:
    """`stream_options`, only with stream=True: `include_usage` True or False, and any
    newer option as long as it is JSON."""
    if not stream:
        raise InvalidInputError("stream_options", "only allowed with stream=True")
    data = check_mapping("stream_options", options)
    if "include_usage" in data:
        check_bool("stream_options.include_usage", data["include_usage"])
    check_params({f"stream_options.{key}": value for key, value in data.items()})
    return data


# -- images: the policy's limits, PDF pages, token estimates ---------------------------------


def check_media_types(
    field: str, value: object, sendable: frozenset[str], written: frozenset[str]
) -> frozenset[str]:
    """A policy's `formats`: a collection of media types, each one a gateway takes
    (`sendable`), with at least one of `written`, what conversions write."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        # A single string would become a set of its letters.
        raise InvalidInputError(field, f"expected a collection of media types, got {value!r}")
    types = frozenset(value)
    unknown = sorted(str(item) for item in types if item not in sendable)
    if unknown:
        raise InvalidInputError(
            field, f"{unknown} not among {sorted(sendable)} (the types a gateway takes)"
        )
    if not types & written:
        raise InvalidInputError(
            field, f"must include {' or '.join(sorted(written))}: conversions write one of them"
        )
    return types


def check_both_or_neither(first: str, second: str, values: tuple[object, object]) -> None:
    """Two settings that only mean something together: both given, or neither."""
    if (values[0] is None) != (values[1] is None):
        raise InvalidInputError(first, f"{first} and {second} go together: give both")


# A page or a range of pages: "3", "1-3", "2-" (to the end).
_PAGE_RANGE: Final = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d*)\s*)?$")


def check_pages(field: str, pages: object, count: int, *, cap: int) -> list[int]:
    """1-based page numbers of a `count`-page document from "1-3,5", "2-" (to the end), an
    int, or None (every page); at most `cap` of them."""
    if pages is None:
        chosen = list(range(1, count + 1))
    elif isinstance(pages, int) and not isinstance(pages, bool):
        chosen = [pages]
    elif isinstance(pages, str):
        chosen = []
        for item in pages.split(","):
            match = _PAGE_RANGE.match(item)
            if not match:
                raise InvalidInputError(field, f"{pages!r}: expected pages like '1-3,5' or '2-'")
            first = int(match.group(1))
            if match.group(2) is None:
                last = first
            else:
                last = int(match.group(2)) if match.group(2) else count
            if last < first:
                raise InvalidInputError(field, f"{item.strip()!r} runs backwards")
            chosen.extend(range(first, last + 1))
    else:
        raise InvalidInputError(
            field, f"expected a str like '1-3' or an int, got {type(pages).__name__}"
        )
    outside = [page for page in chosen if not 1 <= page <= count]
    if outside:
        raise InvalidInputError(
            field, f"page {outside[0]} is outside the document, which has {count} page(s)"
        )
    if len(chosen) > cap:
        raise InvalidInputError(field, f"{len(chosen)} pages, over the cap of {cap} a call")
    return chosen


# -- configuration: what the environment gives when an argument is left out -----------------


def check_configured(
    field: str, value: str | httpx.URL | None, variables: Iterable[str]
) -> str | httpx.URL:
    """A setting given as `field=` or by one of the environment's `variables`: "missing"
    names both ways to give it."""
    if not value:
        raise InvalidInputError(
            field, f"missing; pass {field}=... or set " + " or ".join(variables)
        )
    return value


# The proxy schemes httpx takes; SOCKS needs socksio, and the aiohttp backend cannot use it.
_PROXY_SCHEMES: Final = ("http", "https", "socks5", "socks5h")
_SOCKS_SCHEMES: Final = ("socks5", "socks5h")
# A host name's characters (IDNA names arrive as xn--...); IP literals are checked apart.
_PROXY_HOST: Final = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")


def _shown_proxy(value: str) -> str:
    """`value` with its user and password left out, for a message."""
    scheme, sep, rest = value.rpartition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return f"{scheme}{sep}{authority}{slash}{path}"


def _proxy_host_problem(host: str) -> str | None:
    if not host:
        return "it has no host"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    if not _PROXY_HOST.fullmatch(host):
        return f"{host!r} is not a host name"
    return None


def check_proxy(variable: str, value: str, *, socks: bool) -> httpx.Proxy:
    """The proxy `value` (from the environment `variable`) names, or the error saying why
    httpx could not use it, never quoting its password: httpx's own would."""

    def refuse(problem: str) -> InvalidInputError:
        shown = _shown_proxy(value)
        return InvalidInputError(variable, f"{shown} is not a usable proxy: {problem}")

    scheme = value.partition("://")[0].lower()
    if scheme not in _PROXY_SCHEMES:
        raise refuse(f"its scheme must be one of {', '.join(_PROXY_SCHEMES)}")
    try:
        proxy = httpx.Proxy(value)
        port = proxy.url.port
        host = proxy.url.host
    except (ValueError, httpx.InvalidURL):
        # Their text quotes the URL, password and all: not repeated here.
        raise refuse("it is not a valid URL") from None
    if port is not None and not 0 < port < 65536:
        raise refuse(f"port {port} is not between 1 and 65535")
    problem = _proxy_host_problem(host)
    if problem:
        raise refuse(problem)
    if scheme in _SOCKS_SCHEMES:
        if not socks:
            raise refuse("this client's backend (aiohttp) takes http and https proxies only")
        import importlib.util

        if importlib.util.find_spec("socksio") is None:
            raise refuse("a SOCKS proxy needs the socksio package: pip install 'httpx[socks]'")
    return proxy


def check_proxy_pattern(variable: str, key: str, pattern: Callable[[str], _T]) -> _T:
    """`pattern(key)`: the hosts a proxy variable's entry applies to, as httpx matches them."""
    try:
        return pattern(key)
    except (ValueError, httpx.InvalidURL):
        raise InvalidInputError(variable, f"{key!r} is not a host httpx can match") from None


# -- structured output: parse()'s options, and classes given as response_format --------------


def check_parse_options(mode: object, max_reasks: object, modes: tuple[str, ...]) -> str:
    """parse()'s `mode` ("auto" or one of `modes`) and `max_reasks` (an integer >= 0)."""
    check_one_of("mode", mode, ("auto", *modes))
    check_int("max_reasks", max_reasks, minimum=0)
    return str(mode)


def check_response_type(field: str, value: object) -> object:
    """A `response_format` to parse answers into (a class, a JSON Schema dict), refused
    with the reason the structured layer gives when it cannot make a schema of it."""
    from ._structured.target import prepare  # pydantic, msgspec and co. only when asked

    try:
        prepare(value)
    except TypeError as exc:
        raise InvalidInputError(field, str(exc)) from None
    return value


def check_schema_option(option: str, spec: str) -> object:
    """`--schema SPEC`: a JSON Schema file, or `module:Class` (imported from the current
    directory too, as `python -m` would); the `response_format` it names, checked."""
    import importlib
    import sys
    from pathlib import Path

    path = Path(spec)
    if path.is_file():
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InvalidInputError(option, f"{spec}: not a JSON Schema file ({exc})") from None
        if not isinstance(schema, dict):
            raise InvalidInputError(option, f"{spec}: a JSON Schema is an object")
        found: object = schema
    elif ":" in spec:
        module_name, _, attribute = spec.partition(":")
        if "" not in sys.path and "." not in sys.path:
            sys.path.insert(0, "")
        try:
            found = importlib.import_module(module_name)
            for part in attribute.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError) as exc:
            raise InvalidInputError(option, f"cannot load {spec!r}: {exc}") from None
    else:
        raise InvalidInputError(option, f"{spec!r} is neither a JSON Schema file nor module:Class")
    return check_response_type(option, found)


# -- batches: manifest lines, run options, shards, merge and report options -----------------


def check_int_text(field: str, text: str, *, minimum: int) -> int:
    """An integer >= `minimum` written as text (an environment variable, an option)."""
    try:
        value = int(text.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise InvalidInputError(field, f"expected an integer >= {minimum}, got {text!r}")
    return value


def check_shard_spec(field: str, text: str) -> tuple[int, int]:
    """`K/N`, with 1 <= K <= N: this run's part of the items."""
    index, slash, count = text.partition("/")
    try:
        k, n = int(index), int(count)
    except ValueError:
        k = n = 0
    if not slash or not 1 <= k <= n:
        raise InvalidInputError(field, f"expected K/N with 1 <= K <= N, got {text!r}")
    return k, n


SHARDS_ENV: Final = "CHAT_IMAGE_SHARDS"
_K8S_INDEX: Final = "JOB_COMPLETION_INDEX"
_SLURM_ID: Final = "SLURM_ARRAY_TASK_ID"
_SLURM_MIN: Final = "SLURM_ARRAY_TASK_MIN"
_SLURM_STEP: Final = "SLURM_ARRAY_TASK_STEP"
_SLURM_COUNT: Final = "SLURM_ARRAY_TASK_COUNT"


def _shard_count(shards: object, environ: Mapping[str, str]) -> tuple[int, str] | None:
    if shards is not None:
        return check_int("--shards", shards, minimum=1), f"--shards {shards}"
    text = environ.get(SHARDS_ENV, "").strip()
    if not text:
        return None
    return check_int_text(SHARDS_ENV, text, minimum=1), f"{SHARDS_ENV}={text}"


def _slurm_shard(environ: Mapping[str, str], count: tuple[int, str] | None) -> tuple[int, int, str]:
    task = check_int_text(_SLURM_ID, environ[_SLURM_ID], minimum=0)
    first = check_int_text(_SLURM_MIN, environ.get(_SLURM_MIN) or str(task), minimum=0)
    step = check_int_text(_SLURM_STEP, environ.get(_SLURM_STEP) or "1", minimum=1)
    offset = task - first
    if offset < 0 or offset % step:
        raise InvalidInputError(
            "--shard",
            f"auto: {_SLURM_ID}={task} is not {_SLURM_MIN}={first} plus a multiple of "
            f"{_SLURM_STEP}={step} (an array given as a list?); give --shard K/N",
        )
    rank = offset // step
    tasks = environ.get(_SLURM_COUNT, "").strip()
    if tasks:
        total = check_int_text(_SLURM_COUNT, tasks, minimum=1)
        if count is not None and count[0] != total:
            raise InvalidInputError(
                "--shards",
                f"{count[1]} but the Slurm array has {_SLURM_COUNT}={total} tasks; "
                "give --shard K/N to run one part of a larger split",
            )
        source = f"{_SLURM_ID}={task}, {_SLURM_MIN}={first}, {_SLURM_STEP}={step}, "
        source += f"{_SLURM_COUNT}={total}"
    elif count is not None:
        total = count[0]
        source = f"{_SLURM_ID}={task}, {count[1]}"
    else:
        raise InvalidInputError(
            "--shards", f"auto: {_SLURM_COUNT} is not set; give --shards N (or {SHARDS_ENV})"
        )
    return _within(rank, total, source)


def _within(rank: int, total: int, source: str) -> tuple[int, int, str]:
    if rank >= total:
        raise InvalidInputError(
            "--shard", f"auto: task {rank + 1} of {total} is past the last shard ({source})"
        )
    return rank + 1, total, source


def check_shard(spec: str, shards: object, environ: Mapping[str, str]) -> tuple[int, int, str]:
    """`--shard K/N`, or `--shard auto` from a job array's environment (a Kubernetes indexed
    job's `JOB_COMPLETION_INDEX`, a Slurm array's `SLURM_ARRAY_TASK_*`), with `--shards N`
    (or `CHAT_IMAGE_SHARDS`) where the engine does not tell the count: (K, N, where from)."""
    count = _shard_count(shards, environ) if spec == "auto" or shards is not None else None
    if spec != "auto":
        k, n = check_shard_spec("--shard", spec)
        if count is not None and count[0] != n:
            raise InvalidInputError("--shards", f"{count[1]} but --shard says {spec}")
        return k, n, f"--shard {spec}"
    if environ.get(_SLURM_ID, "").strip():
        return _slurm_shard(environ, count)
    index = environ.get(_K8S_INDEX, "").strip()
    if index:
        position = check_int_text(_K8S_INDEX, index, minimum=0)
        if count is None:
            raise InvalidInputError(
                "--shards",
                f"auto: {_K8S_INDEX}={position} says which shard, not how many; give "
                f"--shards N (the job's completions) or set {SHARDS_ENV}",
            )
        return _within(position, count[0], f"{_K8S_INDEX}={position}, {count[1]}")
    raise InvalidInputError(
        "--shard",
        f"auto: neither {_K8S_INDEX} (a Kubernetes indexed job) nor {_SLURM_ID} (a Slurm "
        "array) is set; give --shard K/N",
    )


# The JSON types of a manifest's optional fields, as a refusal names them.
_JSON_KINDS: Final = {str: "a string", int: "an integer"}


def _manifest_field(line: Mapping[str, Any], name: str, kinds: tuple[type, ...]) -> Any:
    value = line.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, kinds)):
        wanted = " or ".join(_JSON_KINDS[kind] for kind in kinds)
        raise InvalidInputError(name, f"expected {wanted}, got {value!r}")
    return value


def check_manifest_line(data: object, *, is_url: Callable[[str], bool]) -> dict[str, Any]:
    """One line of a batch manifest, as JSON gave it: `id`, `images` (or `image`: paths,
    which `is_url` tells from URLs), and optional `prompt`, `model`, `max_tokens`, `detail`.
    The fields checked (the id as text, images as a list), and `metadata` as given."""
    if not isinstance(data, dict):
        raise InvalidInputError("", f"expected a JSON object, got {type(data).__name__}")
    item_id = _manifest_field(data, "id", (str, int))
    if item_id is None or str(item_id) == "":
        raise InvalidInputError("id", "missing")
    images = data.get("images", data.get("image"))
    if isinstance(images, str):
        images = [images]
    if (
        not isinstance(images, list)
        or not images
        or not all(isinstance(image, str) and image for image in images)
    ):
        raise InvalidInputError("images", "expected an image path or URL, or a list of them")
    for image in images:
        if not is_url(image):
            check_path("images", image)  # a NUL in it, say: refused here, with the line's number
    model = _manifest_field(data, "model", (str,))
    if model is not None:
        check_nonempty_str("model", model)
    prompt = _manifest_field(data, "prompt", (str,))
    if prompt is not None:
        check_text("prompt", prompt)
    max_tokens = _manifest_field(data, "max_tokens", (int,))
    if max_tokens is not None:
        check_int("max_tokens", max_tokens, minimum=1)
    detail = check_detail("detail", _manifest_field(data, "detail", (str,)))
    return {
        "id": str(item_id),
        "images": images,
        "prompt": prompt,
        "model": model,
        "max_tokens": max_tokens,
        "detail": detail,
        # Copied to the output line as is.
        "metadata": data.get("metadata"),
    }


def check_item_request(prompt: str | None, model: str | None) -> tuple[str, str]:
    """An item's prompt and model, its own or the run's: both are needed to ask."""
    if prompt is None:
        raise InvalidInputError("prompt", "none for this item; give --prompt")
    if model is None:
        raise InvalidInputError("model", "none for this item; give --model")
    return prompt, model


def check_merge_inputs(paths: list[str], *, most: int) -> list[str]:
    """The batch outputs to merge: at least one, at most `most`."""
    if not paths:
        raise InvalidInputError("INPUT", "no output files to merge")
    if len(paths) > most:
        raise InvalidInputError("INPUT", f"{len(paths)} files; at most {most}")
    return paths


def check_stat(field: str, path: str) -> os.stat_result:
    """`os.stat(path)`, or the refusal naming `field` and why the file cannot be seen."""
    try:
        return os.stat(path)
    except OSError as exc:
        raise InvalidInputError(field, f"{path!r}: {exc.strerror or exc}") from None


def check_key_file(option: str, path: str) -> str:
    """The API key in the file `option` names, without surrounding whitespace."""
    from pathlib import Path

    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidInputError(option, f"{path!r}: {reason}") from None


# -- Ray Data: the mapper's columns ----------------------------------------------------------


def check_columns(columns: Iterable[str], batch: Mapping[str, Any]) -> None:
    """Each of `columns` is one of the batch's."""
    for column in columns:
        if column not in batch:
            raise InvalidInputError(
                column, f"no such column in the batch (it has {', '.join(map(str, batch))})"
            )
