"""Handlers at run time: typed query parameters, a new component per call with its read-only reader, responses.

The HTTP server (`server.py`) and the handler sensors (`handler_sensors.py`) both build handlers here, so a
handler sees the same things whether a GET or a new item calls it.
"""

from __future__ import annotations

import inspect
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dataspace_assets.dataspace.components import Handler
from dataspace_assets.dataspace.config import (
    DataspaceConfig,
    HandlerConfig,
    components_package,
    import_problem,
    load_class,
)
from dataspace_assets.dataspace.original import original_tables
from dataspace_assets.errors import DataspaceError
from dataspace_assets.storage.reader import DataReader
from dataspace_assets.storage.store import Data, DataStore, UnsupportedPayload, serialise

_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


class BadParameter(ValueError):
    """A query parameter whose value does not have its declared type."""

    def __init__(self, name: str, type_name: str, value: str) -> None:
        super().__init__(f"query parameter {name!r} must be {_ARTICLE[type_name]}, got {value!r}")
        self.name = name


_ARTICLE = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true, false, 1 or 0"}


def cast(name: str, type_name: str, value: str) -> Any:
    """One URL-decoded parameter value cast to its declared type (`bool`: true/false/1/0, any case)."""
    if type_name == "str":
        return value
    text = value.strip()
    if type_name == "int":
        if not _INTEGER.match(text):
            raise BadParameter(name, type_name, value)
        return int(text)
    if type_name == "float":
        try:
            number = float(text)
        except ValueError:
            raise BadParameter(name, type_name, value) from None
        if not math.isfinite(number):
            raise BadParameter(name, type_name, value)
        return number
    if type_name == "bool":
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise BadParameter(name, type_name, value)
    raise DataspaceError(f"unknown query parameter type {type_name!r}")  # config validation prevents it


def parse_query(params: Mapping[str, str], declared: Mapping[str, str]) -> dict[str, Any]:
    """The declared parameters present in the query, typed; undeclared ones are ignored."""
    return {name: cast(name, declared[name], params[name]) for name in declared if name in params}


@dataclass
class HandlerRuntime:
    """One configured handler with its class imported and the reader it is given."""

    config: HandlerConfig
    cls: type
    reader: DataReader
    readable: list[str]  # the component names its `tables` mapping holds

    @property
    def name(self) -> str:
        return self.config.full_name

    @property
    def serves_http(self) -> bool:
        """Whether the class answers GETs: its own `run()` (a push-only handler has only `on_new`)."""
        run = getattr(self.cls, "run", None)
        return callable(run) and run is not Handler.run

    def instance(self) -> Any:
        """A new component, as the original built one per request, given its reader and tables."""
        tables = original_tables(self.reader, self.readable)
        component = _construct(self.config, self.cls, tables)
        component.name = self.config.full_name
        component.run_time = datetime.now(UTC)
        component.reader = self.reader
        component.tables = tables
        return component

    def call(self, query: Mapping[str, Any]) -> Any:
        """Answer one query: `run(**query)` of a new component."""
        return self.instance().run(**query)

    def on_new(self, item: Data) -> Any:
        """Hand one new item of a watched component to `on_new(item)`."""
        return self.instance().on_new(item)


def _construct(config: HandlerConfig, cls: type, tables: dict[str, Any]) -> Any:
    """`cls(tables)` for a handler written for the original (first parameter `tables`), else `cls(**settings)`."""
    try:
        parameters = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    if parameters and parameters[0].name == "tables" and parameters[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        return cls(tables)
    try:
        inspect.signature(cls).bind(**config.settings)
    except TypeError as exc:
        settings = ", ".join(sorted(config.settings)) or "none"
        raise DataspaceError(
            f"handler {config.full_name} ({config.file_label} [{config.table}]): {config.path} does not take "
            f"its settings ({settings}): {exc}"
        ) from exc
    except ValueError:
        pass
    return cls(**config.settings)


def readable_components(config: DataspaceConfig, handler: HandlerConfig) -> list[str]:
    """The names a handler may read: its COMPONENTS (plus what ON_NEW watches), else every collector and harvester."""
    if handler.components is None:
        return list(dict.fromkeys([*(c.full_name for c in [*config.collectors, *config.harvesters]), *handler.on_new]))
    return list(dict.fromkeys([*handler.components, *handler.on_new]))


def build_runtime(
    config: DataspaceConfig, handler: HandlerConfig, store: DataStore, **reader_options: Any
) -> HandlerRuntime:
    """Import the handler's class and give it a read-only reader over the components it may read."""
    try:
        cls = handler.component_class or load_class(handler.path, components_package(), handler.root)
    except Exception as exc:  # user code failing to import is this handler's problem, said in one line
        raise DataspaceError(
            f"handler {handler.full_name} ({handler.file_label} [{handler.table}]) PATH: "
            f"{import_problem(handler.path, exc)}"
        ) from exc
    names = readable_components(config, handler)
    # Without COMPONENTS a handler reads every stored name, as the original's did (IO-manager assets too).
    allowed = names if handler.components is not None else None
    reader = DataReader(store, allowed, **reader_options)
    return HandlerRuntime(handler, cls, reader, names)


def select_handlers(config: DataspaceConfig, names: list[str] | None) -> list[HandlerConfig]:
    """The handlers named (`all` or None: every one); an unknown name is an error listing the known ones."""
    if names is None or "all" in names:
        return list(config.handlers)
    known = {h.full_name: h for h in config.handlers}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise DataspaceError(f"unknown handler(s): {', '.join(unknown)} (handlers: {listed})")
    return [known[n] for n in dict.fromkeys(names)]


def encode(result: Any, handler: HandlerConfig) -> tuple[bytes, str]:
    """The response body and content type of a handler result, by its DATA_TYPE.

    A stored `Data` item goes out as it is stored; otherwise json results are `json.dumps`ed (bytes are taken to
    be JSON already), and text/binary results follow the store's rules (str as UTF-8, dict/list as JSON, bytes).
    """
    if isinstance(result, Data):
        return result.content, result.content_type
    if handler.data_type == "json":
        if isinstance(result, bytes | bytearray | memoryview):
            return bytes(result), handler.content_type
        return json.dumps(result, ensure_ascii=False).encode("utf-8"), handler.content_type
    try:
        return serialise(result), handler.content_type
    except UnsupportedPayload as exc:
        raise TypeError(f"handler {handler.full_name} {exc}") from exc
