"""Push handlers: ON_NEW sensors hand each new item to `on_new(item)` once, in order, in runs with retries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from dataspace_assets.dataspace.definitions import build_defs
from dataspace_assets.dataspace.handler_sensors import HANDLER_TAG
from dataspace_assets.storage.resources import DataspaceStore
from dataspace_assets.storage.store import DataStore

PUSH = '''
import json
from pathlib import Path

from dataspace_assets.dataspace.components import Handler


class Forward(Handler):
    """Appends each new item to a file (a stand-in for a notification or an export)."""

    def on_new(self, item):
        out = Path(self.settings["out"])
        flaky = Path(self.settings["flaky"]) if self.settings.get("flaky") else None
        if flaky is not None and not flaky.exists():
            flaky.write_text("failed once")
            raise RuntimeError("the receiving end is down")
        with out.open("a") as handle:
            handle.write(json.dumps([item.name, item.json()["i"], self.reader.count(item.name)]) + "\\n")
'''

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _toml(out: Path, flaky: Path | None = None) -> str:
    return f"""
[collectors.a]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"

[collectors.b]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"

[handlers.forward]
PATH = "push.Forward"
DATA_TYPE = "json"
DATA_FORMAT = "x"
ON_NEW = ["a", "b"]
RETRIES = 1
out = "{out}"
{f'flaky = "{flaky}"' if flaky else ''}
"""


class Harness:
    def __init__(self, settings, instance: dg.DagsterInstance) -> None:
        self.defs = build_defs(settings)
        self.instance = instance
        self.store = DataStore.from_settings(settings)
        self.resource = DataspaceStore.from_settings(settings)
        self.sensor = self.defs.resolve_sensor_def(sensor_name_for("p_forward"))
        self.job = self.defs.resolve_job_def("dataspace_p_forward_on_new")
        self.cursor: str | None = None

    def tick(self):
        with dg.build_sensor_context(instance=self.instance, cursor=self.cursor,
                                     resources={"dataspace_store": self.resource}, definitions=self.defs) as context:
            result = self.sensor.evaluate_tick(context)
        self.cursor = result.cursor or self.cursor
        return result

    def run(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        return self.job.execute_in_process(run_config=request.run_config, instance=self.instance, tags=request.tags,
                                           raise_on_error=False)

    def write(self, name: str, i: int, date: datetime) -> None:
        self.store.write(name, json.dumps({"i": i}).encode(), date=date, content_type="application/json")


def sensor_name_for(full: str) -> str:
    return f"dataspace_{full}_on_new_sensor"


@pytest.fixture
def harness(configs, tmp_settings, dagster_instance, tmp_path):
    configs.module("push", PUSH)
    out = tmp_path / "out.jsonl"
    configs.toml("p.toml", _toml(out, tmp_path / "flaky"))
    h = Harness(tmp_settings, dagster_instance)
    h.out = out
    yield h
    h.store.close()


def _delivered(out: Path) -> list[list]:
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def test_the_sensor_and_job_are_defined_running(harness) -> None:
    assert harness.sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert harness.job.tags[HANDLER_TAG] == "p_forward"


def test_each_new_item_is_handed_over_once_in_order(harness) -> None:
    harness.write("p_a", 0, T0)  # stored before the sensor started: not new
    first = harness.tick()
    assert first.run_requests == [] and "from now on" in (first.skip_message or "")

    harness.write("p_a", 1, T0 + timedelta(minutes=1))
    harness.write("p_b", 2, T0 + timedelta(minutes=1))  # same date as the previous: after it (ON_NEW order)
    harness.write("p_a", 3, T0 + timedelta(minutes=1))  # same date, same component: by id
    harness.write("p_b", 4, T0 + timedelta(minutes=2))
    keys = []
    for _ in range(8):
        result = harness.tick()
        for request in result.run_requests:
            keys.append(request.run_key)
            outcome = harness.run(request)
            assert outcome.success
    assert [row[:2] for row in _delivered(harness.out)] == [["p_a", 1], ["p_a", 3], ["p_b", 2], ["p_b", 4]]
    assert len(keys) == len(set(keys)) == 4
    assert harness.tick().run_requests == []  # nothing twice
    harness.write("p_b", 5, T0 + timedelta(minutes=3))
    request = harness.tick().run_requests[0]
    assert request.run_key.startswith("p_forward:p_b:")
    harness.run(request)
    assert _delivered(harness.out)[-1][:2] == ["p_b", 5]
    # The handler read through its reader (the count of the item's component).
    assert _delivered(harness.out)[-1][2] == 3


def test_a_failing_call_is_retried_within_its_run(harness, tmp_path) -> None:
    harness.tick()
    harness.write("p_a", 1, T0)
    request = harness.tick().run_requests[0]
    outcome = harness.run(request)
    assert outcome.success  # the first attempt failed, the retry delivered
    assert (tmp_path / "flaky").exists()
    assert [row[:2] for row in _delivered(harness.out)] == [["p_a", 1]]
    retries = [e for e in outcome.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 1


def test_items_wait_while_a_run_is_in_flight(harness) -> None:
    harness.tick()
    harness.write("p_a", 1, T0)
    harness.write("p_a", 2, T0 + timedelta(seconds=1))
    request = harness.tick().run_requests[0]
    pending = harness.instance.create_run_for_job(job_def=harness.job, run_config=request.run_config,
                                                  tags=request.tags)
    waiting = harness.tick()
    assert waiting.run_requests == [] and "in flight" in (waiting.skip_message or "")
    harness.instance.delete_run(pending.run_id)
    follow = harness.tick().run_requests
    assert len(follow) == 1 and follow[0].run_config["ops"]["dataspace__p_forward__on_new"]["config"]["item_id"] == 2


def test_on_new_must_exist_and_name_stored_components(configs) -> None:
    configs.module("push", PUSH)
    configs.toml("q.toml", """
[collectors.a]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"

[handlers.nope]
PATH = "tests.Echo"
DATA_TYPE = "json"
DATA_FORMAT = "x"
ON_NEW = ["a", "missing"]
""")
    problems = configs.problems()
    assert "dataspace/q.toml: [handlers.nope] ON_NEW: unknown component 'missing' (looked for q_missing)" in problems
    assert "dataspace/q.toml: [handlers.nope] ON_NEW: tests.Echo has no on_new(item) method" in problems
