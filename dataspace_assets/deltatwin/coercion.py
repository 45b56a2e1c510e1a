"""The coercion table: which value types may flow into which port types, and what the port then receives.

One table serves the validator (an edge-type problem before anything runs) and the executor (the value a
model port is given). delta-core 1.2.7 has no such table: it renders by the port's declared type and
crashes (run `error`, return code 0, no message) when the value is of another kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dataspace_assets.deltatwin.inputs import Secret
from dataspace_assets.deltatwin.values import DataFile, SecretRef, TwinValue, is_secret
from dataspace_assets.errors import DataspaceError

FILE_TYPES = frozenset({"Data", "stdout"})
PRIMITIVES = frozenset({"boolean", "integer", "number", "string"})
STRUCTURED = frozenset({"array", "object", "json"})

Verdict = Literal["ok", "reference-crash", "error"]


@dataclass(frozen=True)
class Rule:
    """What happens when a value of one type reaches a port of another."""

    verdict: Verdict  # ok; accepted here but delta-core 1.2.7 crashes; refused before running
    receives: str  # what the port is given, in words (for messages and the guide)


def edge_rule(source: str, target: str) -> Rule:
    """The coercion table (docs/deltatwin.md, "Coercion table"): `source` value type into a `target` port type."""
    if source == target or (source in FILE_TYPES and target in FILE_TYPES):
        return Rule("ok", "the value as it is")
    if source == "integer" and target == "number":
        return Rule("ok", "the integer, rendered as a float (2 -> 2.0); it stays an integer downstream")
    if target == "secret":
        if source == "string":
            return Rule("reference-crash", "the string, treated as a secret (masked)")
        return Rule("error", "nothing: a secret port takes a secret or a string")
    if source == "secret":
        return Rule("error", "nothing: a secret may only reach a secret port, where it is masked")
    if target == "string":
        if source in FILE_TYPES:
            return Rule("reference-crash", "the file's absolute path")
        if source in ("boolean", "integer", "number"):
            return Rule("reference-crash", "the value as text (true, 3, 2.5)")
        return Rule("error", f"nothing: a {source} value is not text")
    if target in FILE_TYPES:
        return Rule("error", f"nothing: a {target} port takes a file, not a {source} value")
    if source in FILE_TYPES:
        return Rule("error", f"nothing: a file cannot become a {target} value")
    if target in STRUCTURED and (source in STRUCTURED or source in PRIMITIVES):
        return Rule("ok", "the value (it renders as an empty string, as in delta-core)")
    return Rule("error", f"nothing: a {source} value is not a {target}")


def output_rule(source: str) -> Rule:
    """What a twin output node accepts: a file (a stdout capture is one here; delta-core 1.2.7 crashes on it)."""
    if source == "Data":
        return Rule("ok", "the file")
    if source == "stdout":
        return Rule("reference-crash", "the captured standard output, as a file")
    return Rule("error", f"nothing: an output publishes a file, not a {source} value")


def value_type(value: TwinValue) -> str:
    """The type a run-time value has, in the manifest's vocabulary."""
    if isinstance(value, DataFile):
        return "Data"
    if is_secret(value):
        return "secret"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def coerce(value: TwinValue, port_type: str, *, where: str) -> TwinValue:
    """The value a port of `port_type` receives, following the table; refused combinations raise."""
    if value is None:
        return None
    source = value_type(value)
    rule = edge_rule(source, port_type)
    if rule.verdict == "error":
        raise DataspaceError(f"{where}: a {source} value cannot reach a {port_type} port ({rule.receives})")
    if port_type == "secret" and isinstance(value, str):
        return Secret(value)
    if port_type == "string":
        if isinstance(value, DataFile):
            return value.path
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
    return value  # integers stay integers: a number port renders them as floats itself


def reveal(value: Secret | SecretRef) -> str:
    """The text of a secret value, for the one place that hands it to a model."""
    return value.reveal()
