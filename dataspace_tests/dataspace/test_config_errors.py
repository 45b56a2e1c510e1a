"""Every validated key of a data space TOML table, fed a bad value: the problem names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataspace_assets.dataspace.config import KEYS, REQUIRED, load_config

MINIMAL = {"PATH": "'components.feed.Feed'", "DATA_TYPE": "'json'", "DATA_FORMAT": "'json'", "SOURCE": "'feeds_a'"}
GROUP = {"collector": "collectors", "harvester": "harvesters", "handler": "handlers"}
# A value no key accepts: an inline table where every key wants text, a number, a list or a boolean.
BAD = "{ nested = 1 }"
CASES = [(kind, key, BAD) for kind in KEYS for key in KEYS[kind]]
CASES += [(kind, "PATHH", "'x'") for kind in KEYS]  # an unknown key (a typo of PATH)
CASES += [(kind, f"-{key}", "") for kind in KEYS for key in REQUIRED[kind]]  # a missing required key
CASES += [("collector", "SCHEDULE", "'61 * * * *'"), ("collector", "RETRIES", "-1"), ("collector", "TIMEZONE", "'Mars/Base'"),
          ("harvester", "SOURCE_RANGE", "'1 fortnight'"), ("harvester", "MAX_WINDOWS", "0"),
          ("harvester", "ON_ERROR", "'explode'"), ("handler", "RETRY_DELAY", "-5"), ("collector", "DATA_TYPE", "'yaml'")]


def _problems(configs: Path, kind: str, key: str, value: str) -> tuple[Path, list[str]]:
    folder = configs / "dataspace"
    folder.mkdir(parents=True)
    table = {k: v for k, v in MINIMAL.items() if k in REQUIRED[kind]}
    if key.startswith("-"):
        table.pop(key[1:])
    else:
        table[key] = value
    file = folder / "feeds.toml"
    file.write_text(f"[{GROUP[kind]}.a]\n" + "".join(f"{k} = {v}\n" for k, v in table.items()))
    config = load_config(folder, import_classes=False)
    return file, [str(p) for p in config.problems]


@pytest.mark.parametrize(("kind", "key", "value"), CASES, ids=[f"{k}-{key}-{v}"[:50] for k, key, v in CASES])
def test_a_bad_key_names_the_file_and_the_key(tmp_path: Path, kind: str, key: str, value: str) -> None:
    file, problems = _problems(tmp_path, kind, key, value)
    keyed = [p for p in problems if key.lstrip("-") in p]
    assert keyed, f"no problem names {key}: {problems}"
    for problem in keyed:
        assert file.name in problem and "Traceback" not in problem, problem
