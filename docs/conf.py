"""Sphinx configuration for the documentation site: `nox -s docs` builds it, warnings fail it.

Pages are Markdown (MyST), so README.md and docs/*.md are written, read and tested alike; the
API reference is autodoc over the public modules (`chat_image`, `chat_image.batch`,
`chat_image.testing`), never their private ones, whose names may move.
"""

from __future__ import annotations

import importlib
import logging
import re
from typing import Any, Generic

import attrs
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.ext import napoleon

import chat_image

# The modules the reference documents, and what each exports.
PUBLIC_MODULES = ("chat_image", "chat_image.batch", "chat_image.testing")
PUBLIC_NAMES = {
    module: frozenset(importlib.import_module(module).__all__) for module in PUBLIC_MODULES
}

project = "chat-image"
author = "chat-image maintainers"
release = chat_image.__version__
version = release

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown"}
root_doc = "index"
# Docstrings quote names in single backticks, as Markdown does: show them as code, not italics.
default_role = "code"
exclude_patterns = ["_build"]

# MyST: `{directive}` fences, `:::` blocks for notes, and heading anchors for `#section` links.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# The reference: docstrings in Google style (Args:/Raises:, as attrs writes them), members in
# source order, signatures with short type names.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
# Defaults as written (`time.sleep`, `DEFAULT_MAX_RETRIES`), not as reprs; attrs classes'
# generated __init__ is mended by `_attrs_defaults` below.
autodoc_preserve_defaults = True
# A method without a docstring of ours is not documented with httpx's (RetryTransport's
# handle_request): the reference is this package's API, not its bases'.
autodoc_inherit_docstrings = False
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

html_theme = "furo"
html_title = f"chat-image {release}"
html_static_path: list[str] = []
# No network at build time: CI builds offline, so no intersphinx; references to other
# projects' types (httpx, the standard library) are plain text, not links.
nitpick_ignore_regex = [
    ("py:.*", r"(httpx|httpcore|aiohttp|os|pathlib|collections|typing|datetime|asyncio)\..*"),
    # The generated package is importable, but documented by its generator, not here.
    ("py:.*", r"chat_image_api\..*"),
    # A private name in a signature (a type alias, a type variable, a private class) is shown
    # as text: users do not import it.
    ("py:.*", r"(chat_image(\.\w+)*\.)?_\w+(\.\w+)*"),
    ("py:.*", r"OnRetry"),
    # `images=`'s type alias (a policy, a profile name, limits, False or None): text too.
    ("py:.*", r"ImagesOption"),
]


def _public_name(target: str) -> str | None:
    """`chat_image._x._y.Name` -> `chat_image.Name` when a public module exports `Name`."""
    if not target.startswith("chat_image."):
        return None
    name = target.rsplit(".", 1)[-1]
    return next((f"{mod}.{name}" for mod in PUBLIC_MODULES if name in PUBLIC_NAMES[mod]), None)


def _link_public_name(
    app: Sphinx, env: BuildEnvironment, node: nodes.Element, contnode: nodes.Element
) -> nodes.Element | None:
    """Point a reference to a private module's class at its public name, which is documented.

    Annotations name where a class is defined (`chat_image._client.ChatImage`); the reference
    documents it where users import it from (`chat_image.ChatImage`).
    """
    if node.get("refdomain") != "py":
        return None
    public = _public_name(node.get("reftarget", ""))
    if public is None or public == node.get("reftarget"):
        return None
    domain = env.get_domain("py")
    found: nodes.Element | None = domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], public, node, contnode
    )
    return found


def _public_titles(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """A link's tooltip names the public name too (Sphinx's own fuzzy lookup resolves some
    `chat_image._x.Name` references itself, keeping the private path as their title)."""
    for reference in doctree.findall(nodes.reference):
        public = _public_name(reference.get("reftitle", ""))
        if public is not None:
            reference["reftitle"] = public


def _private(base: Any) -> bool:
    """A class of ours that users do not import: where code is shared, not API."""
    origin = getattr(base, "__origin__", base)
    module = getattr(origin, "__module__", "")
    qualname = getattr(origin, "__qualname__", "")
    if not module.startswith("chat_image"):
        return False
    return qualname.startswith("_") or _public_name(f"{module}.{qualname}") is None


def _public_bases(app: Sphinx, name: str, obj: object, options: Any, bases: list[Any]) -> None:
    """ "Bases:" lists public classes only: a private base gives way to its own public bases
    (`object` when it has none, as Sphinx 9 prints "Bases:" even for an empty list)."""
    public: list[Any] = []
    pending = list(bases)
    while pending:
        base = pending.pop(0)
        if _private(base):
            origin = getattr(base, "__origin__", base)
            inherited = getattr(origin, "__bases__", ())
            pending[:0] = [b for b in inherited if b not in (object, Generic)]
        elif base not in public:
            public.append(base)
    bases[:] = public or [object]


_ATTRS_DEFAULT = re.compile(r"attr_dict\['(\w+)'\]\.default")


def _shown(value: object) -> str:
    """A default as a signature shows it: a function by its dotted name, not its repr."""
    if callable(value) and hasattr(value, "__name__"):
        owner = getattr(value, "__self__", None)
        module = getattr(value, "__module__", None) or type(owner).__module__
        return f"{module}.{value.__name__}"
    return repr(value)


def _attrs_defaults(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    """attrs writes a class's __init__: its source says `attr_dict['x'].default` for a default,
    and `NOTHING` for a factory. Show the default itself, and a factory as `factory()`."""
    if not signature or not isinstance(obj, type) or not attrs.has(obj):
        return None
    fields = attrs.fields_dict(obj)
    signature = _ATTRS_DEFAULT.sub(lambda m: _shown(fields[m[1]].default), signature)
    # attrs orders __init__'s arguments as the fields, keyword-only ones last.
    ordered = sorted(
        (field for field in fields.values() if field.init), key=lambda field: field.kw_only
    )
    factories = iter(
        f"{field.default.factory.__name__}()"
        for field in ordered
        if isinstance(field.default, attrs.Factory)  # type: ignore[arg-type]
    )
    signature = re.sub(r"\bNOTHING\b", lambda _: next(factories, "NOTHING"), signature)
    return signature, return_annotation


def _napoleon_except_attributes(
    app: Sphinx, what: str, name: str, obj: object, options: Any, lines: list[str]
) -> None:
    """Napoleon for functions and classes only. On a property it reads `what: why` (this
    project's docstring style) as `type: description`, and renders "what" as a type."""
    if what in ("attribute", "property", "data"):
        return
    napoleon._process_docstring(app, what, name, obj, options, lines)


class _NewGuidesMayBeNone(logging.Filter):
    """The guides' toctree ends with the glob `*`, so a new page in docs/ is listed without
    editing the index. While every page is also named before it, the glob matches nothing,
    which is fine; Sphinx warns (with no type that `suppress_warnings` could name)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (str(record.msg).startswith("toctree glob pattern") and record.args == ("*",))


def setup(app: Sphinx) -> None:
    logging.getLogger("sphinx.sphinx.directives.other").addFilter(_NewGuidesMayBeNone())
    listeners = app.events.listeners["autodoc-process-docstring"]
    for listener in list(listeners):
        if listener.handler is napoleon._process_docstring:
            app.disconnect(listener.id)
    app.connect("autodoc-process-docstring", _napoleon_except_attributes)
    app.connect("missing-reference", _link_public_name)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("doctree-resolved", _public_titles)
    app.connect("autodoc-process-signature", _attrs_defaults)
