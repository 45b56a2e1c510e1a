"""Fixtures of the API backend tests: one loopback API server per session, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dataspace_tests.harvest.backends.apiserver import ApiServer


@pytest.fixture(scope="session")
def _api_server() -> Iterator[ApiServer]:
    server = ApiServer().start()
    yield server
    server.stop()


@pytest.fixture
def api(_api_server: ApiServer) -> Iterator[ApiServer]:
    """The loopback API server with no route and no recorded request."""
    _api_server.reset()
    _api_server.delay = 0.0
    yield _api_server
    _api_server.reset()
