"""Base classes for the components a TOML config names by `PATH`: collectors, harvesters and handlers.

Subclassing is optional (any class with a `run` method works), but the bases document the contract.
Every key of the component's TOML table that the framework does not define is passed to the
constructor as a keyword argument and kept in `self.settings`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


class Component:
    """Something configured by a TOML table; `settings` holds the table's own (non-framework) keys."""

    #: Full component name (`<file stem>_<table name>`), set by the framework before `run`.
    name: str = ""
    #: The logical time of this run (the scheduled tick when there is one), timezone-aware UTC.
    run_time: datetime = datetime.fromtimestamp(0, UTC)

    def __init__(self, **settings: Any) -> None:
        self.settings: dict[str, Any] = dict(settings)


class Collector(Component):
    """Fetches one snapshot from an outside source each time it runs."""

    def run(self) -> str | bytes | dict | list | None:
        """Return the snapshot (str, bytes, dict or list) or None when there is nothing to store."""
        raise NotImplementedError

    # Optional: `history(self) -> Iterable[tuple[datetime, result]]` is called on the collector's first
    # run (nothing stored yet); its items are stored, dated as given, before the run's own result.


class Harvester(Component):
    """Derives new data from windows of a source's items; `run_time` is the window's storage date.

    `source_data` is one `Data` for one-row windows, otherwise a list of `Data`, oldest first. Each
    dependency comes as a keyword argument named by its full name: a `Data` (or None when optional) for a
    limit of 1, a list newest first for more. With MULTIPLE_RESULTS return one entry per source row.
    """

    def run(self, source_data: Any, **dependencies: Any) -> Any:
        """Return the derived data for one window, or None for an empty result (an invisible marker)."""
        raise NotImplementedError


class Handler(Component):
    """Answers read-only queries over stored items (`GET /<full name>`) and may react to new ones.

    Before `run` or `on_new` the framework sets `self.reader`, a read-only `DataReader` over the components
    the handler may read (its COMPONENTS, else every stored component), and `self.tables`, the original's
    mapping of full name -> table for `dataspace_assets.dataspace.original.retrieve_*`.
    """

    reader: Any = None
    tables: dict[str, Any] = {}

    def get_table_by_name(self, name: str) -> Any:
        """The original's helper: the table of a full component name."""
        return self.tables[name]

    def run(self, **query: Any) -> Any:
        """Return the answer to one query (None answers 404); the declared QUERY_PARAMETERS come typed."""
        raise NotImplementedError

    # A handler with ON_NEW also defines `on_new(self, item: Data) -> None`, called once per new item.
