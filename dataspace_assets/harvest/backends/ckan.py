"""The CKAN backend: list packages (package_list, or package_search with filters), then package_show each one.

Each package is fetched in the domain's bounded pool (config `concurrency`), validated by the strict schema
and mapped to a dataset. An `apikey` in the config is sent as `Authorization` and shown nowhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urljoin

from voluptuous import MultipleInvalid, Schema

from dataspace_assets.harvest.backends.base import (
    BaseBackend,
    HarvestException,
    HarvestFilter,
    HarvestValidationError,
    ItemRef,
)
from dataspace_assets.harvest.backends.options import (
    HTTP_KEYS,
    check_config_keys,
    check_max_pages,
    max_pages_of,
    page_cap_error,
)
from dataspace_assets.harvest.ckan.mapping import dataset_from_package
from dataspace_assets.harvest.ckan.schema import CKAN_PACKAGE, CKAN_RESOURCE, slim_package, validation_message
from dataspace_assets.harvest.records import DatasetRecord

SEARCH_ROWS = 1000
MASK = "********"


def check_apikey(config: dict, backend: str) -> list[str]:
    """Errors of the `apikey` key: a non-empty text, or {"env": "VARIABLE"} read when the harvest runs."""
    if "apikey" not in config:
        return []
    value = config["apikey"]
    if isinstance(value, str) and value.strip():
        return []
    if isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"], str) and value["env"].strip():
        return []
    return [f'Config key "apikey" of "{backend}" backend must be a non-empty string or {{"env": "VARIABLE"}}']


def resolve_apikey(config: dict) -> str | None:
    """The API key of a source config (read from the environment when given as {"env": ...})."""
    value = config.get("apikey")
    if isinstance(value, dict):
        name = value.get("env", "")
        secret = os.environ.get(name)
        if not secret:
            raise HarvestException(f'environment variable "{name}" (config "apikey") is not set')
        return secret
    return value or None


def _error_text(error: Any) -> str:
    """The message of a `success: false` answer: the string, `<__type>: <message>`, or the message."""
    if isinstance(error, dict):
        if "__type" in error:
            return f"{error['__type']}: {error.get('message', '')}"
        return str(error.get("message", error))
    return str(error)


@dataclass(frozen=True)
class _Checked:
    """A fetched package: as CKAN answered it, and as the schema normalised it (or why it failed)."""

    raw: Any
    valid: dict | HarvestValidationError


class CkanBackend(BaseBackend):
    """Harvests a CKAN portal through its action API (v3)."""

    name = "ckan"
    config_keys = frozenset(HTTP_KEYS) | {"max_pages", "apikey"}
    display_name = "CKAN"
    filters = [
        HarvestFilter("Organization", "organization", str, "A CKAN organization name"),
        HarvestFilter("Tag", "tags", str, "A CKAN tag"),
        HarvestFilter("Group", "groups", str, "A CKAN group name"),
        HarvestFilter("Format", "res_format", str, "A resource format"),
        HarvestFilter("Licence", "license_id", str, "A CKAN licence id"),
    ]
    schema: ClassVar[Schema] = CKAN_PACKAGE
    resource_schema: ClassVar[Schema] = CKAN_RESOURCE

    # ------------------------------------------------------------ config
    @classmethod
    def validate_config(cls, config: dict) -> list[str]:
        """The base checks plus the HTTP options, `concurrency`, `max_pages` and `apikey`."""
        errors = super().validate_config(config)
        if isinstance(config, dict):
            errors += check_config_keys(config, cls.name, HTTP_KEYS) + check_max_pages(config)
            errors += check_apikey(config, cls.name)
        return errors

    @property
    def max_pages(self) -> int:
        """How many package_search pages one listing may walk (config `max_pages`, as for DCAT and CSW)."""
        return max_pages_of(self.config)

    # ------------------------------------------------------------ API
    def action_url(self, action: str) -> str:
        """The URL of an API action (joined to the source URL, as CKAN clients do)."""
        return urljoin(self.source.url, f"api/3/action/{action}")

    def headers(self) -> dict[str, str]:
        """The request headers: JSON, and the API key as `Authorization` when configured."""
        headers = {"Content-Type": "application/json"}
        apikey = resolve_apikey(self.config)
        if apikey:
            headers["Authorization"] = apikey
        return headers

    def get_action(self, action: str, **params: Any) -> Any:
        """Call an API action; its `result`, or a HarvestException with CKAN's own message (the key masked)."""
        headers = self.headers()
        try:
            return self._call(action, params, headers)
        except HarvestException as exc:
            apikey = headers.get("Authorization")
            if apikey and apikey in str(exc):  # a portal that echoes the key in its error never shows it
                raise HarvestException(str(exc).replace(apikey, MASK)) from None
            raise

    def _call(self, action: str, params: dict[str, Any], headers: dict[str, str]) -> Any:
        url = self.action_url(action)
        response = self.http.get(url, params=params or None, headers=headers)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if "html" in content_type:
            raise HarvestException(f"Unknown Error: {url} returned HTML")
        if "json" not in content_type:
            text = response.content.decode(response.encoding or "utf-8", "replace").strip()
            raise HarvestException(text.strip('"') or f"Unknown Error: {url} returned an empty answer")
        try:
            data = json.loads(response.content)
        except ValueError as exc:
            raise HarvestException(f"Invalid JSON returned by {url}: {exc}") from exc
        if not isinstance(data, dict) or "success" not in data:
            raise HarvestException(f"Unknown Error: {url} returned no CKAN answer")
        if not data["success"]:
            raise HarvestException(_error_text(data.get("error")))
        return data.get("result")

    # ------------------------------------------------------------ listing
    def search_query(self) -> str:
        """The package_search `q`: `key:value` clauses (`-key:value` to exclude) joined by AND."""
        clauses = []
        for entry in self.get_filters():
            prefix = "-" if entry.get("type") == "exclude" else ""
            clauses.append(f"{prefix}{entry['key']}:{entry['value']}")
        return " AND ".join(clauses)

    def list_names(self) -> Iterator[str]:
        """Every package name: package_list, or package_search (1000 rows a page, `start` beyond) with filters.

        Names come page by page, so a listing stopped at its `max_pages` cap (a portal whose `count` keeps
        growing must not hold the job forever) still gives the names of the pages it walked.
        """
        if not self.get_filters():
            names = self.get_action("package_list")
            if not isinstance(names, list):
                raise HarvestException(f"{self.action_url('package_list')} did not return a list of names")
            yield from (str(n) for n in names)
            return
        listed = 0
        start = 0
        query = self.search_query()
        pages = 0
        while True:
            params = {"q": query, "rows": SEARCH_ROWS, "start": start}
            if pages >= self.max_pages:
                raise page_cap_error(self.max_pages, self.action_url("package_search"), params)
            pages += 1
            result = self.get_action("package_search", **params)
            packages = (result or {}).get("results") or []
            names = [p.get("name") for p in packages if isinstance(p, dict)]
            yield from names
            listed += len(names)
            start += len(packages)
            total = int((result or {}).get("count") or 0)
            # udata stops at the first 1000 rows; we page on with `start` until the count is reached.
            if not packages or start >= total or (self.max_items is not None and listed >= self.max_items):
                return

    def initialize(self) -> None:
        """List the packages; each name becomes an item (its id replaces it once package_show answers)."""
        for name in self.list_names():
            if self.has_reached_max_items():
                if not self.dry_run:
                    self.add_job_error(f"{self.max_items} max items reached, not all datasets were retrieved")
                break
            self.add_item(name, name=name)

    # ------------------------------------------------------------ items
    def package_name(self, item: ItemRef) -> str:
        """The name the package was listed under."""
        return str(item.kwargs.get("name") or item.remote_id)

    def fetch(self, item: ItemRef) -> Any:
        """package_show of one listed name, checked by the schema (both in the domain's bounded pool)."""
        result = self.get_action("package_show", id=self.package_name(item))
        try:  # validated here, so the checks of one package overlap the requests of the others
            return _Checked(self.package_of(result), self.validate(self.package_of(result)))
        except HarvestValidationError as exc:
            return _Checked(self.package_of(result), exc)

    def package_of(self, result: Any) -> Any:
        """The package inside a package_show result."""
        return result

    def fetched_remote_id(self, item: ItemRef, record: Any) -> str | None:
        """The package id, which replaces the listed name as the item's remote id."""
        package = record.raw
        return str(package["id"]) if isinstance(package, dict) and package.get("id") else None

    def validate(self, package: Any) -> dict:
        """The package checked and normalised by the strict schema; `Validation error:` lines otherwise."""
        try:
            return self.schema(slim_package(package, self.schema, self.resource_schema))
        except MultipleInvalid as exc:
            raise HarvestValidationError(validation_message(exc)) from None

    def process_dataset(self, item: ItemRef, dataset: DatasetRecord) -> DatasetRecord:
        """Validate the fetched package and map it onto the dataset."""
        try:
            record = self.fetched(item)
        except HarvestException as exc:  # package_show failed: this item fails with CKAN's message
            raise HarvestValidationError(str(exc)) from None
        if isinstance(record.valid, HarvestValidationError):
            raise record.valid
        data = record.valid
        return dataset_from_package(data, dataset, source_url=self.source.url, licenses=self.licenses)


__all__ = ["CkanBackend", "check_apikey", "resolve_apikey"]
