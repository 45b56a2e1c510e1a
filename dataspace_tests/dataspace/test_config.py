"""Parsing and validating the data space TOML configs: every invalid case asserts its exact message."""

from __future__ import annotations

import pytest

from dataspace_assets.dataspace.config import CollectorConfig, HarvesterConfig, resolve_reference
from dataspace_assets.dataspace.schedules import Daily, Period

COLLECTOR = """
[collectors.{name}]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "geojson"
"""


def collector(name: str = "feed", **extra: object) -> str:
    lines = [COLLECTOR.format(name=name)]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def harvester(name: str, source: str, **extra: object) -> str:
    text = f'\n[harvesters.{name}]\nPATH = "tests.Echo"\nDATA_TYPE = "json"\nDATA_FORMAT = "x"\nSOURCE = "{source}"\n'
    return text + "".join(f"{k} = {v}\n" for k, v in extra.items())


# ---------------------------------------------------------------- the valid shape


def test_full_names_groups_and_defaults(configs) -> None:
    configs.toml("stib.toml", collector("gtfs", SCHEDULE='"04:20"'))
    configs.toml("sub/other.v2.toml", collector("feed", SCHEDULE='"5m"', RETRIES=3, RETRY_DELAY=1.5, POOL='"stib"'))
    config = configs.load()
    assert config.problems == []
    by_name = config.by_name()
    assert sorted(by_name) == ["other_feed", "stib_gtfs"]
    gtfs, feed = by_name["stib_gtfs"], by_name["other_feed"]
    assert isinstance(gtfs, CollectorConfig)
    assert (gtfs.group, gtfs.table, gtfs.file_label) == ("stib", "collectors.gtfs", "dataspace/stib.toml")
    assert (gtfs.schedule, gtfs.schedule_enabled, gtfs.timezone, gtfs.retries, gtfs.pool) == (
        Daily(4, 20), True, "UTC", 0, None
    )
    assert gtfs.content_type == "application/json"
    assert (feed.group, feed.schedule, feed.retries, feed.retry_delay, feed.pool) == (
        "other", Period(300), 3, 1.5, "stib"
    )
    assert feed.file_label == "dataspace/sub/other.v2.toml"


def test_description_from_docstring_or_key(configs) -> None:
    configs.toml("a.toml", collector("one") + collector("two", DESCRIPTION='"Given in TOML"') + """
[collectors.three]
PATH = "tests.Nothing"
DATA_TYPE = "text"
DATA_FORMAT = "x"
""")
    by_name = configs.load().by_name()
    assert by_name["a_one"].description == "Returns its `value` setting."
    assert by_name["a_two"].description == "Given in TOML"
    assert by_name["a_three"].description is None  # no docstring of its own: not the base class's
    assert by_name["a_three"].content_type == "text/plain; charset=utf-8"


def test_non_framework_keys_become_settings(configs) -> None:
    configs.toml("a.toml", collector(value='"hello"', api_key='"k"', limits="{ max = 3 }"))
    feed = configs.load().by_name()["a_feed"]
    assert feed.settings == {"value": "hello", "api_key": "k", "limits": {"max": 3}}


def test_harvester_references_and_defaults(configs) -> None:
    configs.toml("stib.toml", collector("stops") + harvester("shapes", "stops", DEPENDENCIES='["other.feed", "stops"]'))
    configs.toml("other.toml", collector("feed"))
    config = configs.load()
    assert config.problems == []
    shapes = config.by_name()["stib_shapes"]
    assert isinstance(shapes, HarvesterConfig)
    assert shapes.source == "stib_stops"
    assert shapes.dependencies == ["other_feed", "stib_stops"]
    assert shapes.dependencies_limit == [1, 1]
    assert (shapes.source_range, shapes.source_range_seconds, shapes.source_range_strict, shapes.multiple_results) == (
        None, None, True, False
    )


@pytest.mark.parametrize(("value", "rows", "seconds"), [("20", 20, None), ('"30"', 30, None), ('"1h"', None, 3600)])
def test_source_range_forms(configs, value, rows, seconds) -> None:
    configs.toml("a.toml", collector("src") + harvester("h", "src", SOURCE_RANGE=value))
    h = configs.load().by_name()["a_h"]
    assert (h.source_range, h.source_range_seconds) == (rows, seconds)


@pytest.mark.parametrize(("reference", "group", "expected"), [
    ("x", "stib", "stib_x"), ("other.x", "stib", "other_x"), ("a.b.c", "z", "a_b_c"),
])
def test_resolve_reference(reference, group, expected) -> None:
    assert resolve_reference(reference, group) == expected


def test_handler_query_parameters(configs) -> None:
    configs.toml("a.toml", """
[handlers.api]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"
QUERY_PARAMETERS = { start_timestamp = "int", end_timestamp = "int" }
""")
    config = configs.load()
    assert config.problems == []
    assert config.handlers[0].query_parameters == {"start_timestamp": "int", "end_timestamp": "int"}


def test_full_path_outside_the_default_package(configs) -> None:
    configs.toml("a.toml", collector().replace("tests.Echo", "dataspace_assets.dataspace.components.Collector"))
    assert configs.problems() == []


def test_missing_folder_is_empty(tmp_path) -> None:
    from dataspace_assets.dataspace.config import load_config

    config = load_config(tmp_path / "nowhere")
    assert (config.components, config.problems) == ([], [])


# ---------------------------------------------------------------- every problem, exactly


F = "dataspace/a.toml"
T = "[collectors.feed]"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"SCHEDUEL": '"5m"'}, f"{F}: {T} SCHEDUEL: unknown key (did you mean SCHEDULE?)"),
        ({"FOO": "1"}, f"{F}: {T} FOO: unknown key"),
        ({"SOURCE": '"x"'}, f"{F}: {T} SOURCE: unknown key"),
        ({"SCHEDULE": '"5min"'}, f"{F}: {T} SCHEDULE: '5min' is not a schedule; expected HH:MM[:SS] (daily) or "
         "<N>s|m|h|d (every N seconds, minutes, hours or days)"),
        ({"SCHEDULE": '"25:00"'}, f"{F}: {T} SCHEDULE: '25:00' is not a time of day; expected HH:MM[:SS] (daily) or "
         "<N>s|m|h|d (every N seconds, minutes, hours or days)"),
        ({"SCHEDULE": "5"}, f"{F}: {T} SCHEDULE: 5 is not a string; expected HH:MM[:SS] (daily) or "
         "<N>s|m|h|d (every N seconds, minutes, hours or days)"),
        ({"RETRIES": '"3"'}, f"{F}: {T} RETRIES: expected an integer, got string '3'"),
        ({"RETRIES": "true"}, f"{F}: {T} RETRIES: expected an integer, got boolean True"),
        ({"RETRIES": "-1"}, f"{F}: {T} RETRIES: must be 0 or more, got -1"),
        ({"RETRY_DELAY": '"10s"'}, f"{F}: {T} RETRY_DELAY: expected a number of seconds, got string '10s'"),
        ({"SCHEDULE_ENABLED": '"no"'}, f"{F}: {T} SCHEDULE_ENABLED: expected true or false, got string 'no'"),
        ({"TIMEZONE": '"Mars/Olympus"'}, f"{F}: {T} TIMEZONE: unknown timezone 'Mars/Olympus'"),
        ({"POOL": '""'}, f"{F}: {T} POOL: must not be empty"),
        ({"DESCRIPTION": "[1]"}, f"{F}: {T} DESCRIPTION: expected a string, got array [1]"),
    ],
)
def test_collector_key_problems(configs, extra, expected) -> None:
    configs.toml("a.toml", collector(**extra))
    assert configs.problems() == [expected]


def test_bad_data_type(configs) -> None:
    configs.toml("a.toml", collector().replace('"json"', '"jsn"'))
    assert configs.problems() == [f"{F}: {T} DATA_TYPE: expected one of binary, json, text, got 'jsn'"]


@pytest.mark.parametrize("key", ["PATH", "DATA_TYPE", "DATA_FORMAT"])
def test_missing_required_key(configs, key) -> None:
    text = "\n".join(line for line in collector().splitlines() if not line.startswith(key + " "))
    configs.toml("a.toml", text)
    assert configs.problems() == [f"{F}: {T} {key}: missing required key"]


def test_every_problem_at_once(configs) -> None:
    configs.toml("a.toml", """
[collectors.feed]
PATH = 3
SCHEDULE = "often"
""")
    assert configs.problems() == [
        f"{F}: {T} PATH: expected a string, got integer 3",
        f"{F}: {T} SCHEDULE: 'often' is not a schedule; expected HH:MM[:SS] (daily) or "
        "<N>s|m|h|d (every N seconds, minutes, hours or days)",
        f"{F}: {T} DATA_TYPE: missing required key",
        f"{F}: {T} DATA_FORMAT: missing required key",
    ]


def test_invalid_toml(configs) -> None:
    configs.toml("a.toml", "[collectors.feed\nPATH = 1\n")
    assert configs.problems() == [
        f"{F}: invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 17)"
    ]


def test_unknown_top_level_table(configs) -> None:
    configs.toml("a.toml", collector().replace("[collectors.", "[collector."))
    assert configs.problems() == [f"{F}: collector: unknown top-level key (expected collectors, harvesters or handlers)"]


def test_component_that_is_not_a_table(configs) -> None:
    configs.toml("a.toml", "[collectors]\nfeed = 3\n")
    assert configs.problems() == [f"{F}: [collectors.feed]: expected a table, got integer 3"]


def test_invalid_full_name(configs) -> None:
    configs.toml("my-feeds.toml", collector("x"))
    assert configs.problems() == [
        "dataspace/my-feeds.toml: [collectors.x]: invalid full name 'my-feeds_x': use letters, digits and _ "
        "in file and table names (at most 63 characters)"
    ]


def test_duplicate_full_name_across_files(configs) -> None:
    configs.toml("a.toml", collector("feed"))
    configs.toml("a.v2.toml", collector("feed"))
    assert configs.problems() == [
        "dataspace/a.v2.toml: [collectors.feed]: duplicate full name a_feed (also [collectors.feed] in dataspace/a.toml)"
    ]


def test_duplicate_full_name_across_kinds(configs) -> None:
    configs.toml("a.toml", collector("feed") + collector("src") + harvester("feed", "src"))
    assert configs.problems() == [
        f"{F}: [harvesters.feed]: duplicate full name a_feed (also [collectors.feed] in {F})"
    ]


def test_unresolvable_references(configs) -> None:
    configs.toml("a.toml", collector("src") + harvester("h", "missing", DEPENDENCIES='["other.thing"]'))
    assert configs.problems() == [
        f"{F}: [harvesters.h] SOURCE: unknown component 'missing' (looked for a_missing)",
        f"{F}: [harvesters.h] DEPENDENCIES: unknown component 'other.thing' (looked for other_thing)",
    ]


def test_reference_to_a_handler(configs) -> None:
    configs.toml("a.toml", harvester("h", "api") + """
[handlers.api]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"
""")
    assert configs.problems() == [f"{F}: [harvesters.h] SOURCE: a_api is a handler, which stores no data"]


def test_dependency_cycle(configs) -> None:
    configs.toml("a.toml", collector("src") + harvester("x", "src", DEPENDENCIES='["z"]') + harvester("y", "x")
                 + harvester("z", "y"))
    assert configs.problems() == [f"{F}: [harvesters.x] DEPENDENCIES: dependency cycle a_x -> a_z -> a_y -> a_x"]


def test_self_cycle(configs) -> None:
    configs.toml("a.toml", harvester("h", "h"))
    assert configs.problems() == [f"{F}: [harvesters.h] SOURCE: dependency cycle a_h -> a_h"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"SOURCE_RANGE": '"5min"'}, "SOURCE_RANGE: expected a row count (1 or more) or a period like 1h "
         "(<N>s|m|h|d), got string '5min'"),
        ({"SOURCE_RANGE": "0"}, "SOURCE_RANGE: expected a row count (1 or more) or a period like 1h "
         "(<N>s|m|h|d), got integer 0"),
        ({"SOURCE_RANGE_STRICT": "1"}, "SOURCE_RANGE_STRICT: expected true or false, got integer 1"),
        ({"DEPENDENCIES": '"src"'}, "DEPENDENCIES: expected a list of component names, got string 'src'"),
        ({"DEPENDENCIES": '["src"]', "DEPENDENCIES_LIMIT": "[1, 2]"},
         "DEPENDENCIES_LIMIT: has 2 value(s) for 1 entry(ies) of DEPENDENCIES"),
        ({"DEPENDENCIES": '["src"]', "DEPENDENCIES_LIMIT": "[0]"}, "DEPENDENCIES_LIMIT: every limit must be 1 or more, got [0]"),
        ({"QUERY_PARAMETERS": "{ a = 'int' }"}, "QUERY_PARAMETERS: unknown key"),
    ],
)
def test_harvester_key_problems(configs, extra, expected) -> None:
    configs.toml("a.toml", collector("src") + harvester("h", "src", **extra))
    assert configs.problems() == [f"{F}: [harvesters.h] {expected}"]


def test_handler_bad_query_type(configs) -> None:
    configs.toml("a.toml", """
[handlers.api]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"
QUERY_PARAMETERS = { day = "date" }
""")
    assert configs.problems() == [
        f"{F}: [handlers.api] QUERY_PARAMETERS: parameter 'day' has type string 'date'; expected one of bool, float, int, str"
    ]


@pytest.mark.parametrize(
    ("value", "shown"), [('["int"]', "array ['int']"), ("{ type = 'int' }", "table {'type': 'int'}"), ("3", "integer 3")]
)
def test_handler_query_type_that_is_not_a_string(configs, value, shown) -> None:
    # An array or a table used to crash validation (and the code location) with "unhashable type".
    configs.toml("a.toml", f"""
[handlers.api]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"
QUERY_PARAMETERS = {{ day = {value} }}
""")
    assert configs.problems() == [
        f"{F}: [handlers.api] QUERY_PARAMETERS: parameter 'day' has type {shown}; expected one of bool, float, int, str"
    ]


@pytest.mark.parametrize("import_classes", [True, False])
def test_components_package_that_fails_to_import_is_reported_as_such(configs, import_classes) -> None:
    # It used to read "no module 'components.tests' or 'tests'", hiding the missing third-party package.
    (configs.root / "components" / "__init__.py").write_text("import requestz\n")
    configs.toml("a.toml", collector())
    assert configs.problems(import_classes=import_classes) == [
        f"{F}: {T} PATH: cannot import 'tests.Echo': ModuleNotFoundError: No module named 'requestz'"
    ]


def test_missing_sub_package_is_still_no_module(configs) -> None:
    configs.toml("a.toml", collector().replace("tests.Echo", "nowhere.deeper.Thing"))
    assert configs.problems(import_classes=False) == [
        f"{F}: {T} PATH: cannot import 'nowhere.deeper.Thing': no module 'components.nowhere.deeper' or 'nowhere.deeper'"
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("nowhere.Thing", "cannot import 'nowhere.Thing': no module 'components.nowhere' or 'nowhere'"),
        ("tests.Missing", "cannot import 'tests.Missing': module 'components.tests' has no attribute 'Missing'"),
        ("tests.not_a_class", "cannot import 'tests.not_a_class': components.tests.not_a_class is not a class"),
        ("tests.NoRun", "cannot import 'tests.NoRun': components.tests.NoRun has no run() method"),
        ("Echo", "cannot import 'Echo': 'Echo' is not a dotted path module.Class"),
        ("broken.Thing", "cannot import 'broken.Thing': ModuleNotFoundError: No module named 'requestz'"),
        ("crashing.Thing", "cannot import 'crashing.Thing': RuntimeError: import-time failure"),
    ],
)
def test_class_that_cannot_be_imported(configs, path, expected) -> None:
    configs.module("broken", "import requestz\n")
    configs.module("crashing", "raise RuntimeError('import-time failure')\n")
    configs.toml("a.toml", collector().replace("tests.Echo", path) + collector("ok"))
    assert configs.problems() == [f"{F}: {T} PATH: {expected}"]


def test_components_package_is_configurable(configs, monkeypatch) -> None:
    (configs.root / "mine").mkdir()
    (configs.root / "mine" / "__init__.py").write_text("")
    (configs.root / "mine" / "feeds.py").write_text(
        "from dataspace_assets.dataspace.components import Collector\nclass F(Collector):\n    def run(self):\n        return 'x'\n"
    )
    configs.toml("a.toml", collector().replace("tests.Echo", "feeds.F"))
    assert configs.problems(package="mine") == []
    monkeypatch.setenv("DATASPACE_COMPONENTS_PACKAGE", "mine")
    assert configs.problems() == []


def test_a_second_configs_folder_gets_its_own_components_package(tmp_path) -> None:
    from dataspace_tests.dataspace.conftest import Configs

    first, second = Configs(tmp_path / "one"), Configs(tmp_path / "two")
    for folder, value in ((first, "ONE"), (second, "TWO")):
        folder.module("special", f"from dataspace_assets.dataspace.components import Collector\n"
                                 f"class S(Collector):\n    def run(self):\n        return {value!r}\n")
        folder.toml("a.toml", collector().replace("tests.Echo", "special.S"))
    assert first.load().collectors[0].component_class().run() == "ONE"
    assert second.load().collectors[0].component_class().run() == "TWO"


def test_problems_in_several_files_are_all_reported(configs) -> None:
    configs.toml("a.toml", collector(RETRIES='"x"'))
    configs.toml("b.toml", collector(SCHEDULE='"1w"'))
    problems = configs.problems()
    assert problems == [
        f"{F}: {T} RETRIES: expected an integer, got string 'x'",
        "dataspace/b.toml: [collectors.feed] SCHEDULE: '1w' is not a schedule; expected HH:MM[:SS] (daily) or "
        "<N>s|m|h|d (every N seconds, minutes, hours or days)",
    ]


def test_bad_default_timezone(configs) -> None:
    configs.toml("a.toml", collector())
    assert configs.problems(timezone="Nowhere/City") == ["DATASPACE_TIMEZONE: unknown timezone 'Nowhere/City'"]


# ---------------------------------------------------------------- no cascades, no hidden problems


def test_reference_to_an_invalid_table_reports_only_that_table(configs) -> None:
    configs.toml("a.toml", collector("src", SCHEDULE='"5min"') + harvester("h", "src"))
    assert configs.problems() == [
        f"{F}: [collectors.src] SCHEDULE: '5min' is not a schedule; expected HH:MM[:SS] (daily) or "
        "<N>s|m|h|d (every N seconds, minutes, hours or days)"
    ]


def test_invalid_table_still_has_its_path_checked(configs) -> None:
    configs.toml("a.toml", collector(RETRIES='"x"').replace("tests.Echo", "tests.Missing"))
    assert configs.problems() == [
        f"{F}: {T} RETRIES: expected an integer, got string 'x'",
        f"{F}: {T} PATH: cannot import 'tests.Missing': module 'components.tests' has no attribute 'Missing'",
    ]


def test_locating_classes_runs_no_component_code(configs) -> None:
    # What the Dagster definitions do: a module that fails at import time fails its component's runs only.
    configs.module("crashing", '"""Crashes."""\nraise RuntimeError("import-time failure")\nclass Thing:\n    """A thing."""\n')
    configs.toml("a.toml", collector().replace("tests.Echo", "crashing.Thing")
                 + collector("typo").replace("tests.Echo", "tests.Ecko"))
    config = configs.load(import_classes=False)
    assert [str(p) for p in config.problems] == [
        f"{F}: [collectors.typo] PATH: cannot import 'tests.Ecko': module 'components.tests' has no attribute 'Ecko'"
    ]
    feed = config.by_name()["a_feed"]
    assert (feed.component_class, feed.description) == (None, "A thing.")
    assert "components.crashing" not in __import__("sys").modules


def test_locating_finds_classes_in_module_level_blocks(configs) -> None:
    configs.module("guarded", 'try:\n    import json\nexcept ImportError:\n    pass\nelse:\n'
                              '    class Guarded:\n        """Behind a try."""\n        def run(self):\n            return 1\n'
                              'from json import dumps as Alias\n')
    configs.toml("a.toml", collector().replace("tests.Echo", "guarded.Guarded")
                 + collector("alias").replace("tests.Echo", "guarded.Alias"))
    config = configs.load(import_classes=False)
    assert config.problems == []
    assert config.by_name()["a_feed"].description == "Behind a try."


PARQUETIZE_OK = '{ BATCH = "1h", GROUPS = [{ GROUP = "1d" }, { GROUP = "1w", KEYS = ["lineId"] }], SCHEMA = { type = "array" } }'


def test_parquetize_is_accepted_and_kept(configs) -> None:
    configs.toml("a.toml", collector(PARQUETIZE=PARQUETIZE_OK) + harvester("h", "feed", PARQUETIZE='{ BATCH = "30m" }'))
    config = configs.load()
    assert config.problems == []
    by_name = config.by_name()
    assert by_name["a_feed"].parquetize == {
        "BATCH": "1h", "GROUPS": [{"GROUP": "1d"}, {"GROUP": "1w", "KEYS": ["lineId"]}], "SCHEMA": {"type": "array"}
    }
    assert by_name["a_h"].parquetize == {"BATCH": "30m"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"1h"', "expected an inline table { BATCH, GROUPS, SCHEMA }, got string '1h'"),
        ('{ GROUPS = [] }', "BATCH is required"),
        ('{ BATCH = "1x" }', "BATCH expected a duration <N>s|m|h|d|w, got string '1x'"),
        ('{ BATCH = "1h", SIZE = 3 }', "unknown entry 'SIZE' (expected BATCH, GROUPS, SCHEMA, START, RECORDS)"),
        ('{ BATCH = "1h", GROUPS = ["1d"] }', "GROUPS expected a list of tables { GROUP, KEYS }, got array ['1d']"),
        ('{ BATCH = "1h", GROUPS = [{ KEYS = ["a"] }] }', "GROUPS[1]: every group needs a GROUP duration"),
        ('{ BATCH = "1h", GROUPS = [{ GROUP = 1 }] }', "GROUPS[1] GROUP expected a duration <N>s|m|h|d|w, got integer 1"),
        ('{ BATCH = "1h", GROUPS = [{ GROUP = "1d", KEYS = "a" }] }', "GROUPS[1]: KEYS expected a non-empty list of column names, got string 'a'"),
        ('{ BATCH = "1h", SCHEMA = "x" }', "SCHEMA expected a table (a JSON Schema), got string 'x'"),
        ('{ BATCH = "1h", SCHEMA = { type = 3 } }', "SCHEMA is not a valid JSON Schema at type: 3 is not valid under any of the given schemas"),
        ('{ BATCH = "90m" }', "BATCH 90m: 90m is not a calendar-aligned window: use minutes that divide an hour, hours that divide a day, 1d or 1w"),
        ('{ BATCH = "30s" }', "BATCH 30s: 30s is not a calendar-aligned window: use minutes that divide an hour, hours that divide a day, 1d or 1w"),
        ('{ BATCH = "2d" }', "BATCH 2d: 2d is not a calendar-aligned window: use minutes that divide an hour, hours that divide a day, 1d or 1w"),
        ('{ BATCH = "1h", GROUPS = [{ GROUP = "1h" }] }', "GROUPS[1]: GROUP 1h must be a whole multiple of the level below it (1h)"),
        ('{ BATCH = "1d", GROUPS = [{ GROUP = "12h" }] }', "GROUPS[1]: GROUP 12h must be a whole multiple of the level below it (1d)"),
        ('{ BATCH = "1h", GROUPS = [{ GROUP = "1d", KEYS = [] }] }', "GROUPS[1]: KEYS expected a non-empty list of column names, got array []"),
        ('{ BATCH = "1h", GROUPS = [{ GROUP = "1d", KEYS = ["a", "a"] }] }', "GROUPS[1]: KEYS names a column twice: ['a', 'a']"),
        ('{ BATCH = "1h", GROUPS = [{ GROUP = "1d", KEYS = ["a"] }, { GROUP = "1w" }] }', "GROUPS[2]: a GROUP without KEYS cannot follow a GROUP with KEYS (it would remove the files the keyed level is made from)"),
        ('{ BATCH = "1h", START = "yesterday" }', "START expected an ISO date or date-time, got string 'yesterday'"),
        ('{ BATCH = "1h", RECORDS = "a..b" }', 'RECORDS expected a dotted field path such as "readings", got string \'a..b\''),
    ],
)
def test_parquetize_problems(configs, value, expected) -> None:
    configs.toml("a.toml", collector(PARQUETIZE=value))
    assert configs.problems() == [f"{F}: {T} PARQUETIZE: {expected}"]


# ---------------------------------------------------------------- added by the mutation review


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"RETRY_DELAY": "-1"}, "RETRY_DELAY: must be 0 or more, got -1"),
        ({"RETRY_DELAY": "true"}, "RETRY_DELAY: expected a number of seconds, got boolean True"),
        ({"POOL": '"   "'}, "POOL: must not be empty"),
        ({"MyKey": "1"}, None),  # not UPPER_CASE: a setting, not a framework key
    ],
)
def test_more_collector_key_problems(configs, extra, expected) -> None:
    configs.toml("a.toml", collector(**extra))
    assert configs.problems() == ([f"{F}: {T} {expected}"] if expected else [])


def test_upper_case_keys_with_digits_and_underscores_are_framework_keys(configs) -> None:
    configs.toml("a.toml", collector(API_KEY2='"k"'))
    assert configs.problems() == [f"{F}: {T} API_KEY2: unknown key"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"SOURCE_RANGE": '"0"'}, "SOURCE_RANGE: expected a row count (1 or more) or a period like 1h "
         "(<N>s|m|h|d), got string '0'"),
        ({"SOURCE_RANGE": "true"}, "SOURCE_RANGE: expected a row count (1 or more) or a period like 1h "
         "(<N>s|m|h|d), got boolean True"),
        ({"DEPENDENCIES": '["src", ""]'}, "DEPENDENCIES: expected a list of component names, got array ['src', '']"),
        ({"DEPENDENCIES": '["src"]', "DEPENDENCIES_LIMIT": "[true]"},
         "DEPENDENCIES_LIMIT: expected a list of integers, got array [True]"),
        ({"OPTIONAL_DEPENDENCIES": '["src"]', "OPTIONAL_DEPENDENCIES_LIMIT": "[1, 1]"},
         "OPTIONAL_DEPENDENCIES_LIMIT: has 2 value(s) for 1 entry(ies) of OPTIONAL_DEPENDENCIES"),
        ({"OPTIONAL_DEPENDENCIES": '["nowhere"]'},
         "OPTIONAL_DEPENDENCIES: unknown component 'nowhere' (looked for a_nowhere)"),
    ],
)
def test_more_harvester_key_problems(configs, extra, expected) -> None:
    configs.toml("a.toml", collector("src") + harvester("h", "src", **extra))
    assert configs.problems() == [f"{F}: [harvesters.h] {expected}"]


def test_harvester_requires_a_source(configs) -> None:
    configs.toml("a.toml", harvester("h", "x").replace('SOURCE = "x"\n', ""))
    assert configs.problems() == [f"{F}: [harvesters.h] SOURCE: missing required key"]


def test_harvester_optional_dependencies_schedule_and_flags(configs) -> None:
    configs.toml("stib.toml", collector("stops") + harvester(
        "shapes", "stops", OPTIONAL_DEPENDENCIES='["other.feed", "stops"]', OPTIONAL_DEPENDENCIES_LIMIT="[3, 2]",
        SCHEDULE='"1h"', SOURCE_RANGE_STRICT="false", MULTIPLE_RESULTS="true", RETRIES=2,
    ) + harvester("plain", "stops", OPTIONAL_DEPENDENCIES='["stops"]'))
    configs.toml("other.toml", collector("feed"))
    config = configs.load()
    assert config.problems == []
    shapes, plain = config.by_name()["stib_shapes"], config.by_name()["stib_plain"]
    assert (shapes.optional_dependencies, shapes.optional_dependencies_limit) == (["other_feed", "stib_stops"], [3, 2])
    assert (shapes.schedule, shapes.schedule_text, shapes.source_range_strict, shapes.multiple_results, shapes.retries) == (
        Period(3600), "1h", False, True, 2
    )
    assert (plain.optional_dependencies, plain.optional_dependencies_limit, plain.schedule) == (["stib_stops"], [1], None)


def test_optional_dependency_cycle(configs) -> None:
    configs.toml("a.toml", collector("src") + harvester("x", "src", OPTIONAL_DEPENDENCIES='["y"]') + harvester("y", "x"))
    assert configs.problems() == [f"{F}: [harvesters.x] OPTIONAL_DEPENDENCIES: dependency cycle a_x -> a_y -> a_x"]


def test_a_cycle_is_reported_once_whichever_node_it_is_entered_from(configs) -> None:
    # a_y closes the cycle a_x -> a_y -> a_x twice (SOURCE and DEPENDENCIES) and a_w enters it from outside:
    # still one problem; the self-cycle of a_z is another.
    configs.toml("a.toml", collector("src") + harvester("x", "src", DEPENDENCIES='["y"]') + harvester("y", "x", DEPENDENCIES='["x"]')
                 + harvester("w", "src", DEPENDENCIES='["x", "y"]') + harvester("z", "z"))
    assert configs.problems() == [
        f"{F}: [harvesters.x] DEPENDENCIES: dependency cycle a_x -> a_y -> a_x",
        f"{F}: [harvesters.z] SOURCE: dependency cycle a_z -> a_z",
    ]


def test_full_name_too_long(configs) -> None:
    name = "t" * 62  # a_ + 62 = 64 characters
    configs.toml("a.toml", collector(name))
    assert configs.problems() == [
        f"{F}: [collectors.{name}]: invalid full name 'a_{name}': use letters, digits and _ "
        "in file and table names (at most 63 characters)"
    ]
    configs.toml("a.toml", collector(name[:-1]))
    assert configs.problems() == []


def test_content_type_key_overrides_the_data_type_default(configs) -> None:
    configs.toml("a.toml", collector(CONTENT_TYPE='"application/geo+json"') + collector("plain"))
    by_name = configs.load().by_name()
    assert (by_name["a_feed"].content_type, by_name["a_plain"].content_type) == ("application/geo+json", "application/json")
