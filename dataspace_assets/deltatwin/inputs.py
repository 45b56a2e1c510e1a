"""Run inputs: check an inputs file `{name: {type, value | url | secret_value}}` against a manifest, bind them."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname
from typing import Any, Literal

from dataspace_assets.deltatwin.files import load_json
from dataspace_assets.deltatwin.manifest import MANIFEST_FILE, DataRef, Input, Manifest
from dataspace_assets.deltatwin.problems import Problem, Problems, json_kind, kind, quote, sort_problems

MASK = "***"  # how a secret is shown anywhere it could be logged (the reference masks logged commands so)

# The return code a reference run fails with for each of our codes (spec §6); other errors make it crash.
RETURN_CODES: Mapping[str, int] = {"missing-inputs": 120, "input-type": 110}

# The key of an inputs-file entry that carries its value, per declared type (start_local, spec §6 step 5).
_VALUE_KEY = {"Data": "url", "secret": "secret_value"}
_DEFAULT_VALUE_KEY = "value"
_VALUE_KEYS = ("value", "url", "secret_value")
# The types the reference's run-time check can infer from a JSON value (`check_inputs`, spec §2.4).
_CHECKABLE = frozenset({"boolean", "integer", "number", "string"})


@dataclass(frozen=True)
class Secret:
    """A secret input's value: readable as `.reveal()` only, shown as *** in repr, str and JSON."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        """The real secret, for the executor that hands it to the model."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK


BoundValue = bool | int | float | str | list | dict | DataRef | Secret


@dataclass(frozen=True)
class BoundInput:
    """One twin input as a run receives it: from the inputs file, or the manifest's default."""

    name: str
    type: str
    value: BoundValue  # Data -> DataRef(url), secret -> Secret, others the JSON value
    source: Literal["file", "default"]

    def masked(self) -> Any:
        """The value as it may be shown or recorded: secrets as ***, Data as its url."""
        if isinstance(self.value, Secret):
            return MASK
        if isinstance(self.value, DataRef):
            return self.value.url
        return self.value


@dataclass(frozen=True)
class BoundInputs:
    """Every input of the manifest, in its order, bound to the value a run uses."""

    inputs: Mapping[str, BoundInput]

    def __getitem__(self, name: str) -> BoundInput:
        return self.inputs[name]

    def masked(self) -> dict[str, Any]:
        """{name: value} safe to print or record: secrets as ***."""
        return {name: bound.masked() for name, bound in self.inputs.items()}


@dataclass(frozen=True)
class InputsResult:
    """The outcome of checking an inputs file: its problems, and the bound inputs when there is no error."""

    problems: tuple[Problem, ...]
    inputs: BoundInputs | None = None

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    @property
    def return_code(self) -> int | None:
        """The code a reference run fails with: 110 for a type error (it is raised inside the check's loop, so it
        wins), else 120 for missing inputs (raised after the loop), else None."""
        codes = {p.code for p in self.problems if p.severity == "error"}
        for code in ("input-type", "missing-inputs"):
            if code in codes:
                return RETURN_CODES[code]
        return None


def check_inputs(
    data: Any, manifest: Manifest, *, file: str = "inputs.json", bound: Mapping[str, str] | None = None
) -> InputsResult:
    """Check a parsed inputs file against the manifest's inputs; bind every input when nothing is an error.

    `bound` names the inputs bindings.toml feeds from a data-space asset (name -> asset key): the file cannot give them.
    """
    out = Problems(file)
    if not isinstance(data, dict):
        out.error((), "wrong-type", f"expected a JSON object {{name: {{type, value}}}}, got {kind(data)}")
        return InputsResult(tuple(out))
    provided: dict[str, BoundValue] = {}
    secrets = _secrets(data, manifest)
    for name, entry in data.items():
        declared = manifest.inputs.get(name)
        if declared is None:
            out.error((name,), "undeclared-input", _undeclared(MASK if name in secrets else name, manifest))
            continue
        if bound and name in bound:
            out.error(
                (name,), "bound-input", f"bound to {bound[name]} in bindings.toml: it takes the stored item, not a value"
            )
            continue
        value = _check_entry(name, entry, declared, out, secrets)
        if value is not _INVALID:
            provided[name] = value
    missing = sorted(n for n, i in manifest.inputs.items() if i.required and n not in data)
    if missing:
        # the reference's message, with Python's list repr (sorted, as the reference sorts them)
        out.error((), "missing-inputs", f"Inputs {missing!r} required.")
    problems = tuple(_mask(sort_problems(list(out), data), secrets))
    if out.has_errors:
        return InputsResult(problems)
    return InputsResult(problems, _bind(manifest, provided))


def check_inputs_file(path: Path, manifest: Manifest | None, *, bound: Mapping[str, str] | None = None) -> InputsResult:
    """Read an inputs file (any failure is a problem) and check it; without a manifest only its reading is checked."""
    out = Problems(path.name)
    readable, data = load_json(path, out)
    if not readable:
        return InputsResult(tuple(out))
    if manifest is None:
        out.info((), "inputs-unchecked", f"not checked: {MANIFEST_FILE} could not be read")
        return InputsResult(tuple(out))
    result = check_inputs(data, manifest, file=path.name, bound=bound)
    return InputsResult(tuple(out) + result.problems, result.inputs)


_INVALID: Any = object()


def _check_entry(name: str, entry: Any, declared: Input, out: Problems, secrets: set[str] = frozenset()) -> Any:
    """The value one entry gives its input, or _INVALID with problems (never showing the value: it may be a secret)."""
    if not isinstance(entry, dict):
        out.error((name,), "wrong-type", f"expected an object {{type, value}}, got {kind(entry)}")
        return _INVALID
    if "type" not in entry:
        out.error((name, "type"), "missing-key", f'missing "type" (the manifest declares {declared.type})')
        return _INVALID
    given = entry["type"]
    if not isinstance(given, str):
        out.error((name, "type"), "wrong-type", f"expected a string, got {kind(given)}")
        return _INVALID
    if given != declared.type:
        # start_local converts the entry by this type, so the reference check then fails with 110
        shown = MASK if given in secrets else given  # the one place a message quotes what the file holds
        out.error((name, "type"), "input-type", _type_message(name, declared.type, shown))
        return _INVALID
    key = _VALUE_KEY.get(declared.type, _DEFAULT_VALUE_KEY)
    if key not in entry:
        return _missing_value(name, entry, declared.type, key, out)
    for extra in entry:
        if extra not in ("type", key):
            out.warning((name, extra), "unknown-key", f'ignored: a {declared.type} input reads only "type" and "{key}"')
    value = entry[key]
    actual = _json_type(value, key)
    if declared.type not in _CHECKABLE and declared.type not in _VALUE_KEY:
        out.error(
            (name, key),
            "input-type",
            f"Input {name} of type {declared.type} cannot be given at run time: the reference's check only "
            "accepts boolean, integer, number, string, secret and Data values.",
        )
        return _INVALID
    if actual != declared.type:
        out.error((name, key), "input-type", _type_message(name, declared.type, actual))
        return _INVALID
    if declared.type == "Data":
        _check_data_path(name, key, value, out)
        return DataRef(value)
    if declared.type == "secret":
        return Secret(value)
    return value


def _check_data_path(name: str, key: str, url: str, out: Problems) -> None:
    """Cheap warnings about a Data value that is not an http(s) URL: a local path must exist to be used in place."""
    scheme = urlsplit(url).scheme
    if scheme in ("http", "https"):
        return
    if scheme and len(scheme) > 1 and scheme != "file":
        out.warning((name, key), "data-path", f"{quote(scheme)} URLs cannot be fetched (http, https, file or a path)")
        return
    path = Path(url2pathname(urlsplit(url).path) if scheme == "file" else url).expanduser()
    if not path.is_absolute():
        out.warning(
            (name, key),
            "data-path",
            "a relative path: dataspace reads it from the twin folder, delta-core 1.2.7 crashes on it",
        )
    elif not path.is_file():
        out.warning((name, key), "data-path", f"no such file on this machine: {path}")


def _missing_value(name: str, entry: dict, type_: str, key: str, out: Problems) -> Any:
    """An entry without the key its type reads: a type error if another value key is there, else a missing key."""
    for other in _VALUE_KEYS:
        if other in entry:
            out.error((name, other), "input-type", _type_message(name, type_, _json_type(entry[other], other)))
            return _INVALID
    out.error((name, key), "missing-key", f"missing {quote(key)} (a {type_} input takes its {quote(key)})")
    return _INVALID


def _secrets(data: dict, manifest: Manifest) -> set[str]:
    """Every string of the file that may be a secret: each `secret_value`, and any value given for a secret input."""
    found: set[str] = set()
    for name, entry in data.items():
        if not isinstance(entry, dict):
            continue
        secret_input = name in manifest.inputs and manifest.inputs[name].type == "secret"
        for key, value in entry.items():
            if isinstance(value, str) and value and (key == "secret_value" or (secret_input and key != "type")):
                found.add(value)
    return found


def _mask(problems: list[Problem], secrets: set[str]) -> list[Problem]:
    """Problems with every key that is a secret shown as *** (a secret pasted in the wrong place).

    Masking is by position: a path part equal to a secret is replaced whole, and messages mask the one
    value they quote where they quote it. Nothing is replaced by substring search, which garbled every
    message containing a short secret's letters (`***tation` for a secret "s").
    """
    if not secrets:
        return problems
    return [
        replace(p, path=tuple(MASK if isinstance(x, str) and x in secrets else x for x in p.path)) for p in problems
    ]


def _json_type(value: Any, key: str) -> str:
    """The input type the reference infers: `url` holds Data, `secret_value` a secret, `value` by its JSON kind."""
    if isinstance(value, str) and key in ("url", "secret_value"):
        return "Data" if key == "url" else "secret"
    return json_kind(value)


def _type_message(name: str, expected: str, actual: str) -> str:
    """The reference's return-code-110 message."""
    return f"Input {name} must be of type {expected} but is of type {actual}."


def _undeclared(name: str, manifest: Manifest) -> str:
    declared = ", ".join(manifest.inputs) or "none"
    close = difflib.get_close_matches(name, list(manifest.inputs), n=1)
    hint = f" (did you mean {quote(close[0])}?)" if close else ""
    return f"input {quote(name)} is not declared in {MANIFEST_FILE} (declared inputs: {declared}){hint}"


def _bind(manifest: Manifest, provided: Mapping[str, BoundValue]) -> BoundInputs:
    """Each manifest input to its provided value, else its default (a secret default is wrapped too)."""
    bound: dict[str, BoundInput] = {}
    for name, declared in manifest.inputs.items():
        if name in provided:
            bound[name] = BoundInput(name, declared.type, provided[name], "file")
            continue
        default: Any = declared.default
        if declared.type == "secret" and isinstance(default, str):
            default = Secret(default)
        bound[name] = BoundInput(name, declared.type, default, "default")
    return BoundInputs(bound)
