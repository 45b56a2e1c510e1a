"""`dataspace catalog export`: write the whole published catalogue to a file or stdout, streamed."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from dataspace_assets.errors import DataspaceError

if TYPE_CHECKING:
    from pyoxigraph import Triple

    from dataspace_assets.harvest.publish.store import PublicationStore

DEFAULT_BASE = "http://127.0.0.1:8888"
CHUNK = 100  # entries loaded from the database at a time


def export_catalog(
    store: "PublicationStore", output: BinaryIO, fmt_name: str, base_url: str, *, progress: bool = False
) -> int:
    """Serialise every public entry to `output` as it is read, chunk by chunk; return how many entries."""
    from tqdm import tqdm

    from dataspace_assets.harvest.publish.pages import FORMATS, PageBuilder, serialise

    fmt = FORMATS[fmt_name]
    total = store.counts().total
    bar = tqdm(total=total, unit="entry", file=sys.stderr, disable=not progress, desc="catalogue")
    builder = PageBuilder(store)

    def triples() -> Iterator["Triple"]:
        chunks = builder.all_triples(base_url, chunk=CHUNK)
        yield from next(chunks)  # the catalogue node first
        done = 0
        for chunk in chunks:
            yield from chunk
            step = min(CHUNK, total - done)
            done += step
            bar.update(step)

    try:
        serialise(triples(), fmt, output)
    finally:
        bar.close()
    return total


def _export(args: argparse.Namespace) -> int:
    """Write the catalogue in one format to --output (or stdout)."""
    from dataspace_assets.harvest.publish.routes import PUBLIC_URL_VARIABLE
    from dataspace_assets.harvest.publish.store import PublicationStore
    from dataspace_assets.settings import load_settings

    settings = getattr(args, "settings", None) or load_settings()
    base = (args.base_url or os.environ.get(PUBLIC_URL_VARIABLE) or DEFAULT_BASE).rstrip("/")
    store = PublicationStore.from_url(settings.database_url)
    try:
        if args.output in (None, "-"):
            out = sys.stdout.buffer
            count = export_catalog(store, out, args.format, base, progress=sys.stderr.isatty())
            out.flush()
            return 0
        path = Path(args.output)
        if not path.parent.is_dir():
            raise DataspaceError(f"--output {path}: the folder {path.parent} does not exist")
        partial = path.with_name(path.name + ".partial")
        try:
            with partial.open("wb") as out:
                count = export_catalog(store, out, args.format, base, progress=sys.stderr.isatty())
            partial.replace(path)  # a failed export never leaves a truncated catalogue under the real name
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise DataspaceError(f"--output {path}: {exc.strerror or exc}") from None
        print(f"{count} entr{'y' if count == 1 else 'ies'} written to {path}", file=sys.stderr)
        return 0
    finally:
        store.close()


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `dataspace catalog ...` to the `dataspace` parser."""
    catalog = commands.add_parser("catalog", help="the data space's own DCAT-AP catalogue")
    sub = catalog.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)
    text = "write the whole published catalogue (streamed; a progress bar on a terminal)"
    export = sub.add_parser("export", help=text, description=text)
    export.add_argument("--format", choices=["ttl", "rdf", "jsonld"], default="ttl", help="serialisation (default ttl)")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.add_argument(
        "--base-url", help="root of the published IRIs (default $DATASPACE_PUBLIC_URL, else http://127.0.0.1:8888)"
    )
    export.set_defaults(func=_export)


__all__ = ["export_catalog", "register"]
