"""The harvest side of the shared guarded HTTP client: its errors are harvest errors, its options a source's config."""

from __future__ import annotations

from dataspace_assets.harvest.backends.base import HarvestException, SourceInfo
from dataspace_assets.net.http import GuardedHttp, HttpError, HttpOptions


class HarvestHttpError(HarvestException, HttpError):
    """A request of a harvest failed; the message names the URL."""


class HarvestHttp(GuardedHttp):
    """HTTP for one harvest source: every call raises `HarvestHttpError` naming the URL on failure."""

    error_class = HarvestHttpError

    @classmethod
    def for_source(cls, source: SourceInfo, *, user_agent: str, verify: bool = True) -> "HarvestHttp":
        """The client of a source, honouring its config switches."""
        return cls(user_agent=user_agent, options=HttpOptions.from_config(source.config), verify=verify)


__all__ = ["HarvestHttp", "HarvestHttpError", "HttpOptions"]
