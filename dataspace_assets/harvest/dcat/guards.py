"""Guards of catalogue parsing: no JSON-LD context fetched behind the guarded client's back, bounded pages and triples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

from rdflib import Graph
from rdflib.plugins.stores.memory import Memory

from dataspace_assets.harvest.backends.base import HarvestException

MAX_CONTEXT_FETCHES = 32  # remote contexts one document may pull in, nested ones included
MAX_CONTEXT_DEPTH = 8  # contexts referenced from contexts referenced from ...

DEFAULT_MAX_PAGES = 1000  # pages one listing may walk (config "max_pages")
MAX_PAGES_LIMIT = 100_000

# rdflib holds about 1.2 KB per triple in memory; compact Turtle spends 25-60 bytes on one. The default limit
# keeps a page's graph within about three times `max_bytes` of memory, never below MIN_TRIPLES.
BYTES_PER_TRIPLE = 400
MIN_TRIPLES = 100_000
MAX_TRIPLES_LIMIT = 50_000_000


class ContextRefused(HarvestException):
    """A JSON-LD context reference that may not be fetched."""


class TripleLimitExceeded(HarvestException):
    """A page holds more triples than the source allows."""

    @classmethod
    def on_page(cls, url: str, limit: int) -> "TripleLimitExceeded":
        """The error of a page that went past `limit` triples, naming the config key."""
        return cls(
            f'{url}: more than {limit} triples on one page (config "max_triples", '
            "by default max_bytes / 400): the page was not loaded"
        )


def default_max_triples(max_bytes: int) -> int:
    """The triple limit of a page when the config sets none: derived from the body-size cap `max_bytes`."""
    return max(MIN_TRIPLES, max_bytes // BYTES_PER_TRIPLE)


def limits_config_errors(config: dict) -> list[str]:
    """Out-of-bounds `max_pages` and `max_triples` values, each message naming the key."""
    errors: list[str] = []
    for key, high in (("max_pages", MAX_PAGES_LIMIT), ("max_triples", MAX_TRIPLES_LIMIT)):
        value = config.get(key) if isinstance(config, dict) else None
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f'Config key "{key}" must be int')
        elif not 1 <= value <= high:
            errors.append(f'Config key "{key}" must be between 1 and {high} (got {value})')
    return errors


# ---------------------------------------------------------------------- JSON-LD contexts


def _without_base(context: Any) -> Any:
    """A remote context's `@base` never applies to the document that references it (JSON-LD 1.1, 4.1.2)."""
    if isinstance(context, dict) and "@base" in context:
        return {k: v for k, v in context.items() if k != "@base"}
    return context


def resolve_jsonld_contexts(
    document: Any, fetch_context: Callable[[str], Any] | None, *, url: str = ""
) -> Any:
    """The document with every context reference inlined: top-level, embedded, scoped, `@import`, nested.

    Each reference is fetched with `fetch_context` (the guarded client) or refused: other schemes, `file:`
    from a remote document, too deep or too many references. The parser then never goes to the network.
    """
    budget = [MAX_CONTEXT_FETCHES]
    local_document = url.startswith("file:")
    where = url or "JSON-LD document"

    def fetch(ref: Any, base: str, depth: int) -> tuple[Any, str]:
        if not isinstance(ref, str):
            raise ContextRefused(f"{where}: invalid JSON-LD context reference {ref!r}")
        target = urljoin(base, ref) if base else ref
        scheme = urlsplit(target).scheme.lower()
        if scheme not in ("http", "https") and not (scheme == "file" and local_document):
            raise ContextRefused(
                f'{where}: JSON-LD context "{target}" refused (only http(s) contexts are fetched, '
                "through the guarded client; file: only from a local document)"
            )
        if fetch_context is None:
            raise ContextRefused(f'{where}: JSON-LD context "{target}" refused (no context loader here)')
        if depth >= MAX_CONTEXT_DEPTH:
            raise ContextRefused(f'{where}: JSON-LD context "{target}" is nested more than {MAX_CONTEXT_DEPTH} deep')
        budget[0] -= 1
        if budget[0] < 0:
            raise ContextRefused(f"{where}: more than {MAX_CONTEXT_FETCHES} JSON-LD context references")
        loaded = fetch_context(target)
        if not isinstance(loaded, dict) or "@context" not in loaded:
            raise ContextRefused(f'{where}: JSON-LD context "{target}" has no "@context"')
        return _without_base(loaded["@context"]), target

    def context(ctx: Any, base: str, depth: int) -> Any:
        if isinstance(ctx, str):
            inner, target = fetch(ctx, base, depth)
            return context(inner, target, depth + 1)
        if isinstance(ctx, list):
            out: list[Any] = []
            for entry in ctx:
                resolved = context(entry, base, depth)
                out.extend(resolved if isinstance(entry, str) and isinstance(resolved, list) else [resolved])
            return out
        if isinstance(ctx, dict):
            ctx = dict(ctx)
            if "@import" in ctx:
                inner, target = fetch(ctx.pop("@import"), base, depth)
                if not isinstance(inner, dict) or "@import" in inner:
                    raise ContextRefused(f'{where}: "@import" of "{target}" must be one context object without "@import"')
                ctx = {**context(inner, target, depth + 1), **ctx}
            return {key: term(value, base, depth) for key, value in ctx.items()}
        return ctx  # null or an invalid value: the parser reports it

    def term(definition: Any, base: str, depth: int) -> Any:
        if isinstance(definition, dict) and "@context" in definition:  # a scoped (property or type) context
            return {**definition, "@context": context(definition["@context"], base, depth)}
        return definition

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (context(v, url, 0) if k == "@context" else walk(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(n) for n in node]
        return node

    return walk(document)


# ---------------------------------------------------------------------- triples


class _BoundedMemory(Memory):
    """rdflib's memory store that stops a parse once it holds `limit` triples."""

    def __init__(self, limit: int, url: str) -> None:
        super().__init__()
        self._limit = limit
        self._url = url
        self._count = 0

    def add(self, triple, context, quoted=False):  # type: ignore[no-untyped-def, override]
        self._count += 1
        if self._count > self._limit:
            raise TripleLimitExceeded.on_page(self._url, self._limit)
        return super().add(triple, context, quoted)


def bounded_graph(max_triples: int | None, url: str) -> Graph:
    """An empty graph that refuses to grow past `max_triples` (unbounded when None)."""
    if max_triples is None:
        return Graph()
    return Graph(store=_BoundedMemory(max_triples, url))


__all__ = [
    "ContextRefused",
    "DEFAULT_MAX_PAGES",
    "TripleLimitExceeded",
    "bounded_graph",
    "default_max_triples",
    "limits_config_errors",
    "resolve_jsonld_contexts",
]
