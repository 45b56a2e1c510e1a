"""Push handlers: a handler with `ON_NEW = [...]` gets a sensor that hands each new item to `on_new(item)`.

The sensor keeps a cursor `(date, id)` per watched component and launches one run per new item, oldest first,
with the run key `<handler>:<component>:<item id>`, so an item is never handed over twice. It waits while a
run of the handler is in flight, which keeps the calls in order; a run retries per the handler's RETRIES, and
a run that still fails stays in the run history (re-execute it from the UI) while the next items go on.
On its first tick the sensor starts after the newest stored item: it reacts to new items, not the backlog.
"""

# No `from __future__ import annotations`: Dagster reads the op's config annotation at definition time.
import json
from datetime import datetime

import dagster as dg

from dataspace_assets.dataspace.config import DataspaceConfig, HandlerConfig
from dataspace_assets.dataspace.handlers import build_runtime
from dataspace_assets.storage.reader import DataReader
from dataspace_assets.storage.resources import DataspaceStore

STORE_KEY = "dataspace_store"
HANDLER_TAG = "dataspace/handler"
ITEM_TAG = "dataspace/item"
INTERVAL_SECONDS = 5
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


class NewItem(dg.Config):
    """The item one run hands to the handler."""

    component: str
    item_id: int


def job_name(handler: HandlerConfig) -> str:
    return f"dataspace_{handler.full_name}_on_new"


def sensor_name(handler: HandlerConfig) -> str:
    return f"dataspace_{handler.full_name}_on_new_sensor"


def op_name(handler: HandlerConfig) -> str:
    return f"dataspace__{handler.full_name}__on_new"


def on_new_job(dataspace: DataspaceConfig, handler: HandlerConfig) -> dg.JobDefinition:
    """The job whose one op calls `on_new(item)` for the item in its run config."""
    retry = dg.RetryPolicy(max_retries=handler.retries, delay=handler.retry_delay or None) if handler.retries else None

    @dg.op(name=op_name(handler), retry_policy=retry, required_resource_keys={STORE_KEY},
           description=f"Hands one new item to handler {handler.full_name} ({handler.path}).on_new.")
    def deliver(context: dg.OpExecutionContext, config: NewItem) -> None:
        store = getattr(context.resources, STORE_KEY).get_store()
        runtime = build_runtime(dataspace, handler, store)
        data = runtime.reader.get(config.component, config.item_id)
        if data is None:
            raise dg.Failure(
                description=f"item {config.item_id} of {config.component} is not in the store", allow_retries=False
            )
        runtime.on_new(data)
        context.log.info(
            f"{handler.full_name}.on_new: {config.component} item {config.item_id} ({data.date.isoformat()})"
        )

    @dg.job(name=job_name(handler), tags={HANDLER_TAG: handler.full_name},
            description=f"Runs of handler {handler.full_name} on new items of {', '.join(handler.on_new)}.")
    def _job() -> None:
        deliver()

    return _job


def _cursor_state(text: str | None) -> dict[str, list]:
    try:
        state = json.loads(text) if text else {}
    except ValueError:
        state = {}
    return state if isinstance(state, dict) else {}


def next_item(reader: DataReader, watched: list[str], state: dict[str, list]) -> tuple[str, object] | None:
    """The oldest item after the cursor across the watched components (ties: ON_NEW order, then id)."""
    best: tuple[tuple, str, object] | None = None
    for order, name in enumerate(watched):
        date_text, item_id = state[name]
        found = reader.items_after(name, datetime.fromisoformat(date_text), int(item_id), limit=1)
        if found:
            item = found[0]
            rank = (item.date, order, int(item.id))
            if best is None or rank < best[0]:
                best = (rank, name, item)
    return (best[1], best[2]) if best else None


def on_new_sensor(handler: HandlerConfig, job: dg.JobDefinition) -> dg.SensorDefinition:
    """The sensor (RUNNING by default) that launches one run per new item of the watched components."""
    watched = list(handler.on_new)

    @dg.sensor(
        name=sensor_name(handler),
        job=job,
        minimum_interval_seconds=INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        required_resource_keys={STORE_KEY},
        description=f"Hands each new item of {', '.join(watched)} to handler {handler.full_name}, in order.",
    )
    def _watch(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        store: DataspaceStore = getattr(context.resources, STORE_KEY)
        reader = DataReader(store.get_store(), watched)
        state = _cursor_state(context.cursor)
        started = [name for name in watched if name not in state]
        for name in started:
            newest = reader.newest_cursor(name)
            state[name] = [newest[0].isoformat(), newest[1]] if newest else ["0001-01-01T00:00:00+00:00", 0]
        if started:
            return dg.SensorResult(
                skip_reason=f"watching {', '.join(started)} for new items from now on", cursor=json.dumps(state)
            )
        in_flight = context.instance.get_runs(
            filters=dg.RunsFilter(job_name=job.name, statuses=IN_FLIGHT), limit=1
        )
        if in_flight:
            return dg.SkipReason(f"run {in_flight[0].run_id} of {handler.full_name} is in flight: items wait in order")
        found = next_item(reader, watched, state)
        if found is None:
            return dg.SkipReason("no new item")
        name, item = found
        state[name] = [item.date.isoformat(), int(item.id)]
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"{handler.full_name}:{name}:{item.id}",
                    run_config={"ops": {op_name(handler): {"config": {"component": name, "item_id": int(item.id)}}}},
                    tags={HANDLER_TAG: handler.full_name, ITEM_TAG: f"{name}:{item.id}"},
                )
            ],
            cursor=json.dumps(state),
        )

    return _watch


def handler_sensor_defs(config: DataspaceConfig) -> tuple[list[dg.JobDefinition], list[dg.SensorDefinition]]:
    """The on-new job and sensor of every handler with ON_NEW."""
    jobs, sensors = [], []
    for handler in config.handlers:
        if handler.on_new:
            job = on_new_job(config, handler)
            jobs.append(job)
            sensors.append(on_new_sensor(handler, job))
    return jobs, sensors
