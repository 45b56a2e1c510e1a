"""manifest.json: the typed model of a DeltaTwin, its schema check per deltaVersion and the strict layer beyond it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from jsonschema.exceptions import ValidationError

from dataspace_assets.deltatwin.problems import Path, Problem, Problems, describe, kind, quote, sort_problems
from dataspace_assets.deltatwin.schemas import CURRENT_VERSION, SUPPORTED_TEXT, SUPPORTED_VERSIONS, validator

MANIFEST_FILE = "manifest.json"

# Map keys as the specification writes them; our schemas also accept an upper-case first letter
# (real twins name outputs `L2A_B02`), which the strict layer then warns about.
IDENTIFIER = re.compile(r"[a-z][A-Za-z0-9_-]*")
KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
COMPONENT_NAME = re.compile(r"[a-z0-9-]+")  # what the DeltaTwin service asks of component names

TYPES: tuple[str, ...] = (
    "boolean",
    "integer",
    "number",
    "string",
    "secret",
    "Data",
    "stdout",
    "array",
    "object",
    "json",
)
_TYPES_BY_LOWER = {t.lower(): t for t in TYPES}
DATA_TYPES = frozenset({"Data", "stdout"})  # values that are files (a reference with url and path)
UNRENDERED_TYPES = frozenset({"array", "object", "json"})  # the reference renders these as empty strings

SECTIONS: tuple[str, ...] = ("inputs", "resources", "models", "outputs", "dependencies")

RUNNER = "python"  # the only model type delta-core can run
KNOWN_PARAMETERS = frozenset(
    {
        "command",
        "pythonVersion",
        "pipRequirements",
        "aptRequirements",
        "pipRequirementFiles",
        "environment",
        # not read by delta-core 1.2.7 but used by real twins for the hosted executor: kept without a warning
        "hardwareRequirements",
        "pipInstallArgs",
    }
)
REFERENCE_PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
_PYTHON_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")

# A command segment starting with this is replaced as a whole (delta-core matches at the start only).
PLACEHOLDER = re.compile(r"\$\(([a-z][A-Za-z0-9_-]*)((?:\.[a-z][A-Za-z0-9_-]*)*)\)")
_GLOB_PLACEHOLDER = re.compile(r"\$\(inputs\.([^)]*)\)")
_BARE_PLACEHOLDER = re.compile(r"inputs\.([A-Za-z][A-Za-z0-9_-]*)")

_INPUT_KEYS = _RESOURCE_KEYS = frozenset({"type", "description", "value"})
_OUTPUT_KEYS = frozenset({"type", "description"})
_MODEL_INPUT_KEYS = frozenset({"type", "description", "value", "prefix"})
_MODEL_OUTPUT_KEYS = frozenset({"type", "description", "glob"})
_DEPENDENCY_KEYS = frozenset({"id", "version"})
_DATA_KEYS = frozenset({"url", "path", "size", "checksum"})
_REQUIREMENT_KEYS = frozenset({"name", "version"})
_V10_MODEL_KEYS = frozenset({"path", "type", "parameters"})
_V10_MODEL_KEY = "model"  # the map key a deltaVersion 1.0 single model is exposed under


@dataclass(frozen=True)
class DataRef:
    """A file value: where it is fetched from (`url`) and, once stored, where it lives (`path`)."""

    url: str
    path: str | None = None


Value = bool | int | float | str | list | dict | DataRef


@dataclass(frozen=True)
class Input:
    """A value a run receives: a twin input, or a model input port (which may carry a command-line prefix)."""

    name: str
    type: str
    description: str | None = None
    default: Value | None = None
    prefix: str | None = None

    @property
    def required(self) -> bool:
        """An input without a default must be given at run time (JSON null is never a default)."""
        return self.default is None


@dataclass(frozen=True)
class Resource:
    """A constant of the twin: the end user cannot override it."""

    name: str
    type: str
    value: Value
    description: str | None = None


@dataclass(frozen=True)
class Output:
    """A value a run produces: a twin output, or a model output port with the file pattern that collects it."""

    name: str
    type: str
    description: str | None = None
    glob: str | None = None


@dataclass(frozen=True)
class Requirement:
    """A pip or apt package a model image installs."""

    name: str
    version: str | None = None


@dataclass(frozen=True)
class Model:
    """A program the twin runs in its own image, with its typed input and output ports."""

    name: str
    path: str
    runner: str
    command: str
    python_version: str | None  # normalised to x.y
    inputs: Mapping[str, Input]
    outputs: Mapping[str, Output]
    pip_requirements: tuple[Requirement, ...] = ()
    apt_requirements: tuple[Requirement, ...] = ()
    pip_requirement_files: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)  # every runner parameter, as written


@dataclass(frozen=True)
class Dependency:
    """Another published DeltaTwin this one runs as a sub-workflow."""

    name: str
    id: str
    version: str


@dataclass(frozen=True)
class Copyright:
    """Who owns the twin, and since when."""

    company: str
    years: tuple[int, ...]


@dataclass(frozen=True)
class License:
    """The licence the twin is published under."""

    name: str
    url: str
    description: str | None
    copyrights: tuple[Copyright, ...]


Element = Input | Resource | Model | Output | Dependency


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest.json: what the twin takes, holds, runs and produces."""

    delta_version: str  # the version it was validated as
    name: str
    description: str
    owner: str | None = None
    short_description: str | None = None
    license: License | None = None
    inputs: Mapping[str, Input] = field(default_factory=dict)
    resources: Mapping[str, Resource] = field(default_factory=dict)
    outputs: Mapping[str, Output] = field(default_factory=dict)
    models: Mapping[str, Model] = field(default_factory=dict)
    dependencies: Mapping[str, Dependency] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Element]:
        """One of the maps a workflow `ref` can point into (`inputs`, `models`, ...)."""
        if name not in SECTIONS:
            raise KeyError(name)
        return getattr(self, name)

    def element(self, section: str, key: str) -> Element | None:
        """The element a workflow ref `<section>.<key>` names, or None."""
        if section not in SECTIONS:
            return None
        return self.section(section).get(key)


@dataclass(frozen=True)
class ManifestResult:
    """The outcome of checking a manifest: the best-effort model, the problems, and what could not be read."""

    manifest: Manifest | None
    problems: tuple[Problem, ...]
    # refs (`inputs`, `models.m`, `models.m.inputs`) whose contents were unreadable, so the workflow
    # check does not pile spurious "not declared" errors on top of the manifest errors
    opaque: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def check_manifest(data: Any, *, version: str | None = None, file: str = MANIFEST_FILE) -> ManifestResult:
    """Validate a parsed manifest.json as its deltaVersion (or as `version`) and build the typed model."""
    out = Problems(file)
    if not isinstance(data, dict):
        out.error((), "wrong-type", f"expected a JSON object, got {kind(data)}")
        return ManifestResult(None, tuple(out), frozenset())
    chosen = _choose_version(data, version, out)
    if chosen is None:
        return ManifestResult(None, tuple(out), frozenset())
    doc = _apply_resources_alias(data, out)
    for error in validator(chosen).iter_errors(doc):
        _schema_problem(error, chosen, out)
    parser = _Parser(doc, chosen, out)
    manifest = parser.manifest()
    problems: list[Problem] = list(out)
    if doc is not data and "resources" not in data:
        # the alias was read as `resources`: point at the key the file really has
        problems = [_under_alias(p) for p in problems]
    return ManifestResult(manifest, tuple(sort_problems(problems, data)), frozenset(parser.opaque))


def _under_alias(problem: Problem) -> Problem:
    if problem.path[:1] != ("resources",):
        return problem
    return replace(problem, path=("internal_resources", *problem.path[1:]))


def _choose_version(data: dict, override: str | None, out: Problems) -> str | None:
    """The deltaVersion to validate as: the override, the declared one, or 1.4 when absent."""
    if override is not None:
        if override not in SUPPORTED_VERSIONS:
            out.error((), "unsupported-version", f"unsupported deltaVersion {override} (supported {SUPPORTED_TEXT})")
            return None
        return override  # a different declared version is then reported by the schema's enum
    if "deltaVersion" not in data:
        return CURRENT_VERSION
    declared = data["deltaVersion"]
    if not isinstance(declared, str):
        out.error(("deltaVersion",), "wrong-type", f'expected a string such as "1.4", got {describe(declared)}')
        return None
    if declared not in SUPPORTED_VERSIONS:
        out.error(
            ("deltaVersion",),
            "unsupported-version",
            f"unsupported deltaVersion {declared} (supported {SUPPORTED_TEXT})",
        )
        return None
    return declared


def _apply_resources_alias(data: dict, out: Problems) -> dict:
    """Read `internal_resources` (a name the written spec uses) as `resources`, never both."""
    if "internal_resources" not in data:
        return data
    doc = dict(data)  # shallow: the caller's document is never changed
    alias = doc.pop("internal_resources")
    if "resources" in data:
        out.error(
            ("internal_resources",),
            "resources-conflict",
            'both "resources" and its alias "internal_resources" are set: keep only "resources"',
        )
    else:
        out.warning(("internal_resources",), "resources-alias", 'read as "resources", the name every schema uses')
        doc["resources"] = alias
    return doc


_JSON_KINDS = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def _schema_problem(error: ValidationError, version: str, out: Problems) -> None:
    """Turn one jsonschema error into problems with precise paths and plain messages."""
    path: Path = tuple(error.absolute_path)
    keyword, instance = error.validator, error.instance
    if "propertyNames" in error.relative_schema_path:
        # a map key failing the identifier pattern: the problem is the key, so the path ends with it
        out.error(
            (*path, str(instance)),
            "bad-identifier",
            "invalid name: use letters, digits, _ and -, starting with a letter",
        )
    elif keyword == "required":
        where = f" (deltaVersion {version})" if not path else ""
        for key in error.validator_value:
            if isinstance(instance, dict) and key not in instance:
                out.error((*path, key), "missing-key", f"missing required key{where}")
    elif keyword == "additionalProperties":
        _unknown_keys(path, instance, error.schema.get("properties", {}), version, out)
    elif keyword == "type":
        out.error(path, "wrong-type", f"expected {_expected_kinds(error.validator_value)}, got {describe(instance)}")
    elif keyword == "enum" and path == ("deltaVersion",):
        accepted = ", ".join(error.validator_value)
        out.error(
            path,
            "bad-value",
            f"{describe(instance)} cannot be validated as deltaVersion {version} (it accepts {accepted})",
        )
    elif keyword == "enum":
        out.error(path, "bad-value", f"{describe(instance)} is not one of {', '.join(map(str, error.validator_value))}")
    elif keyword in ("minimum", "maximum"):
        out.error(
            path,
            "out-of-range",
            f"{describe(instance)} is outside {error.schema.get('minimum')}–{error.schema.get('maximum')}",
        )
    elif keyword == "uniqueItems":
        out.error(path, "not-unique", f"{_first_duplicate(instance)} appears more than once")
    else:
        out.error(path, "bad-value", error.message[:200])


def _unknown_keys(path: Path, instance: dict, allowed: Mapping[str, Any], version: str, out: Problems) -> None:
    """One problem per key a closed object does not allow, with a hint where one helps."""
    for key in instance:
        if key in allowed:
            continue
        if not path and key in _TOP_LEVEL_KEYS:
            message = f"not allowed in deltaVersion {version}"
        elif len(path) == 2 and path[0] == "models" and key == "name":
            message = 'unknown key (a model\'s name is its key in "models")'
        else:
            message = "unknown key" + _did_you_mean(key, allowed)
        out.error((*path, key), "unknown-key", message)


def _expected_kinds(expected: str | list[str]) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    if len(names) > 2:
        return "any JSON value but null"  # the only long list in our schemas: a default value
    return " or ".join(_JSON_KINDS.get(name, name) for name in names)


_TOP_LEVEL_KEYS = frozenset(
    {
        "deltaVersion",
        "name",
        "description",
        "short_description",
        "owner",
        "license",
        "resources",
        "artifacts",
        "inputs",
        "outputs",
        "models",
        "dependencies",
    }
)


def _first_duplicate(items: list) -> str:
    """The first value repeated in a list; true is not 1, and unhashable values are compared pairwise."""
    seen: set[tuple[bool, Any]] = set()
    unhashable: list[Any] = []
    for item in items:
        try:
            key = (isinstance(item, bool), item)
            if key in seen:
                return describe(item)
            seen.add(key)
        except TypeError:
            if item in unhashable:
                return describe(item)
            unhashable.append(item)
    return "a value"


def _did_you_mean(key: str, allowed: Mapping[str, Any] | frozenset[str]) -> str:
    """A suggestion for a misspelt key, such as `"description:"` for `description`."""
    match = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    return f" (did you mean {quote(match[0])}?)" if match else ""


class _Parser:
    """The strict layer: reads a schema-checked (or broken) document into the typed model, defensively."""

    def __init__(self, doc: dict, version: str, out: Problems) -> None:
        self.doc = doc
        self.version = version
        self.out = out
        self.opaque: set[str] = set()

    def manifest(self) -> Manifest:
        """Every section read, each element checked beyond the schema."""
        doc = self.doc
        name = doc.get("name") if isinstance(doc.get("name"), str) else ""
        if isinstance(doc.get("name"), str) and not COMPONENT_NAME.fullmatch(name):
            self.out.warning(
                ("name",), "identifier-style", 'DeltaTwin names should use lower-case letters, digits and "-" only'
            )
        legacy = self.version == "1.0"
        return Manifest(
            delta_version=self.version,
            name=name,
            description=_str(doc.get("description")) or "",
            owner=_str(doc.get("owner")),
            short_description=_str(doc.get("short_description")),
            license=self._license(doc.get("license")),
            inputs={} if legacy else self._section("inputs", self._input),
            resources=self._legacy_resources() if legacy else self._section("resources", self._resource),
            outputs={} if legacy else self._section("outputs", self._output),
            models=self._legacy_model() if legacy else self._section("models", self._model),
            dependencies={} if legacy else self._dependencies(),
        )

    # -- sections -------------------------------------------------------------------------------

    def _section(self, section: str, read) -> dict:
        """One map of the manifest, each key becoming its element's name."""
        raw = self.doc.get(section, {})
        return self._map((section,), raw, read, opaque_as=section)

    def _map(self, path: Path, raw: Any, read, opaque_as: str) -> dict:
        """Read a map of elements; a body that is not an object is left out and marked unreadable."""
        if not isinstance(raw, dict):
            self.opaque.add(opaque_as)  # the schema reported the wrong type
            return {}
        elements = {}
        for key, body in raw.items():
            if not isinstance(key, str):
                continue
            if KEY.fullmatch(key) and not IDENTIFIER.fullmatch(key):
                self.out.warning(
                    (*path, key),
                    "identifier-style",
                    "names should start with a lower-case letter ([a-z][A-Za-z0-9_-]*)",
                )
            if not isinstance(body, dict):
                self.opaque.add(f"{opaque_as}.{key}")
                continue
            element = read((*path, key), key, body)
            if element is not None:
                elements[key] = element
        return elements

    def _keys(self, path: Path, key: str, body: dict, allowed: frozenset[str]) -> None:
        """Reject keys delta-core's parser would crash on; a `name` inside must repeat the map key."""
        for inner in body:
            if inner == "name":
                value = body["name"]
                if value == key:
                    self.out.warning(
                        (*path, "name"), "name-redundant", "repeats the map key, which is already the name"
                    )
                else:
                    self.out.error(
                        (*path, "name"),
                        "name-mismatch",
                        f"{describe(value)} differs from its map key {quote(key)}, which is the name",
                    )
            elif inner not in allowed:
                self.out.error((*path, inner), "unknown-key", "unknown key" + _did_you_mean(str(inner), allowed))

    def _type(self, path: Path, body: dict) -> str:
        """The element's type in the canonical vocabulary; `data` and other case variants are read with a warning."""
        raw = body.get("type")
        if not isinstance(raw, str):
            return ""  # missing or not a string: the schema reported it
        if raw in TYPES:
            return raw
        canonical = _TYPES_BY_LOWER.get(raw.lower())
        if canonical is not None:
            self.out.warning((*path, "type"), "type-case", f"{quote(raw)} read as {quote(canonical)}")
            return canonical
        self.out.error(
            (*path, "type"), "unknown-type", f"unknown type {quote(raw)} (expected one of {', '.join(TYPES)})"
        )
        return ""

    def _value(self, path: Path, type_: str, raw: Any) -> Value | None:
        """A default or constant checked against its declared type; Data values normalised to a DataRef."""
        where = (*path, "value")
        if raw is None or type_ == "":
            return raw
        if type_ in DATA_TYPES:
            return self._data_value(where, raw)
        if type_ == "boolean":
            ok = isinstance(raw, bool)
        elif type_ == "integer":
            ok = isinstance(raw, int) and not isinstance(raw, bool)
        elif type_ == "number":
            if isinstance(raw, int) and not isinstance(raw, bool):
                # accepted, but never changed: delta-core passes the JSON integer on as an integer, and a
                # dependency's `integer` input downstream must receive 20, not 20.0 (a number port renders 20.0)
                self.out.warning(
                    where,
                    "value-widened",
                    f"integer {raw} given for a number: accepted; it stays the integer {raw} downstream, as in delta-core",
                )
                return raw
            ok = isinstance(raw, float)
        elif type_ in ("string", "secret"):
            ok = isinstance(raw, str)
        elif type_ == "array":
            ok = isinstance(raw, list)
        elif type_ == "object":
            ok = isinstance(raw, dict)
        else:  # json: any JSON value
            ok = True
        if not ok:
            expected = _JSON_KINDS.get(type_, "a string")  # string and secret values are strings
            self.out.error(where, "value-type", f"expected {expected} for type {type_}, got {describe(raw)}")
        return raw

    def _data_value(self, path: Path, raw: Any) -> DataRef | None:
        """A Data value written as a URL string or an object with `url` (and optionally `path`)."""
        if isinstance(raw, str):
            return DataRef(raw)
        if isinstance(raw, dict):
            for inner in raw:
                if inner not in _DATA_KEYS:
                    self.out.error(
                        (*path, inner),
                        "unknown-key",
                        "unknown key in a Data value" + _did_you_mean(str(inner), _DATA_KEYS),
                    )
            url, where = raw.get("url"), raw.get("path")
            if not isinstance(url, str):
                self.out.error((*path, "url"), "value-type", f"a Data value needs a url string, got {describe(url)}")
                return None
            if where is not None and not isinstance(where, str):
                self.out.error((*path, "path"), "value-type", f"expected a string, got {describe(where)}")
                where = None
            return DataRef(url, where)
        self.out.error(
            path, "value-type", f"expected a URL string or an object with url for type Data, got {describe(raw)}"
        )
        return None

    # -- elements -------------------------------------------------------------------------------

    def _input(self, path: Path, key: str, body: dict) -> Input:
        self._keys(path, key, body, _INPUT_KEYS)
        type_ = self._type(path, body)
        self._reference_limits(path, type_, body)
        return Input(key, type_, _str(body.get("description")), self._value(path, type_, body.get("value")))

    def _reference_limits(self, path: Path, type_: str, body: dict) -> None:
        """Twin inputs we accept but delta-core 1.2.7 cannot run: say so (our executor runs them)."""
        raw, value = body.get("type"), body.get("value")
        reason = None
        if isinstance(raw, str) and raw != type_ and type_:
            reason = f"an input typed {quote(raw)} can never be satisfied there (every value gives return code 110)"
        elif type_ == "Data" and isinstance(value, str):
            reason = "a Data default must be an object {\"url\": ...} there (a string crashes with a TypeError)"
        elif type_ == "secret" and isinstance(value, str):
            reason = "a secret default crashes the run there (return code 0, no message)"
        elif type_ in UNRENDERED_TYPES and (value is None or _fits(type_, value)):
            reason = (
                f"{type_} defaults crash the run there, and no {type_} value can be given"
                if value is not None
                else f"no {type_} value can ever be given there (every value gives return code 110)"
            )
        if reason:
            self.out.warning(path, "reference-cannot-run", f"delta-core 1.2.7 cannot run this: {reason}")

    def _resource(self, path: Path, key: str, body: dict) -> Resource:
        self._keys(path, key, body, _RESOURCE_KEYS)
        type_ = self._type(path, body)
        return Resource(key, type_, self._value(path, type_, body.get("value")), _str(body.get("description")))

    def _output(self, path: Path, key: str, body: dict) -> Output:
        self._keys(path, key, body, _OUTPUT_KEYS)
        type_ = self._type(path, body)
        if type_ and type_ != "Data":
            self.out.warning(
                (*path, "type"),
                "output-not-data",
                f"a twin output of type {type_} cannot be collected by the reference runtime (only Data)",
            )
        return Output(key, type_, _str(body.get("description")))

    def _model_input(self, path: Path, key: str, body: dict) -> Input:
        self._keys(path, key, body, _MODEL_INPUT_KEYS)
        type_ = self._type(path, body)
        prefix = _str(body.get("prefix"))
        if type_ == "boolean" and not prefix:
            self.out.warning(
                path, "boolean-without-prefix", "a boolean without a prefix never appears on the command line"
            )
        if type_ in UNRENDERED_TYPES:
            self.out.warning(
                (*path, "type"), "unrendered-type", f"{type_} values render as an empty string on the command line"
            )
        return Input(key, type_, _str(body.get("description")), self._value(path, type_, body.get("value")), prefix)

    def _model_output(self, path: Path, key: str, body: dict) -> Output:
        self._keys(path, key, body, _MODEL_OUTPUT_KEYS)
        type_ = self._type(path, body)
        glob = _str(body.get("glob"))
        if type_ == "Data" and "glob" not in body:
            self.out.error(path, "glob-missing", "a Data model output needs a glob: the file pattern that collects it")
        elif type_ and type_ not in DATA_TYPES:
            self.out.warning(
                (*path, "type"),
                "output-not-data",
                f"a model output of type {type_} is never produced: edges from it carry null",
            )
        return Output(key, type_, _str(body.get("description")), glob)

    def _model(self, path: Path, key: str, body: dict) -> Model:
        runner = body.get("type")
        if isinstance(runner, str) and runner != RUNNER:
            self.out.error(
                (*path, "type"),
                "unsupported-runner",
                f'unsupported runner {quote(runner)} (only "python" models can run)',
            )
        inputs = self._map(
            (*path, "inputs"), body.get("inputs", {}), self._model_input, opaque_as=f"models.{key}.inputs"
        )
        outputs = self._map(
            (*path, "outputs"), body.get("outputs", {}), self._model_output, opaque_as=f"models.{key}.outputs"
        )
        raw_params = body.get("parameters")
        params = raw_params if isinstance(raw_params, dict) else {}
        # placeholders can only be checked against a readable list of model inputs
        known_inputs = None if f"models.{key}.inputs" in self.opaque else inputs
        command = self._command(path, raw_params, known_inputs)
        for name, output in outputs.items():
            if output.glob is not None and known_inputs is not None:
                self._glob((*path, "outputs", name, "glob"), output.glob, known_inputs)
        self._check_parameters(path, params)
        return Model(
            name=key,
            path=_str(body.get("path")) or "",
            runner=runner if isinstance(runner, str) else "",
            command=command,
            python_version=self._python_version(path, raw_params),
            inputs=inputs,
            outputs=outputs,
            pip_requirements=self._requirements(
                (*path, "parameters", "pipRequirements"), params.get("pipRequirements")
            ),
            apt_requirements=self._requirements(
                (*path, "parameters", "aptRequirements"), params.get("aptRequirements")
            ),
            pip_requirement_files=self._strings(
                (*path, "parameters", "pipRequirementFiles"), params.get("pipRequirementFiles")
            ),
            environment=self._environment((*path, "parameters", "environment"), params.get("environment")),
            parameters=params,
        )

    def _check_parameters(self, path: Path, params: dict) -> None:
        """Warn about runner parameters the runtime ignores (they are kept as written); check the kept ones' types."""
        for name in params:
            if name not in KNOWN_PARAMETERS:
                self.out.warning(
                    (*path, "parameters", name),
                    "unknown-parameter",
                    "not used by the runtime (kept as written)" + _did_you_mean(str(name), KNOWN_PARAMETERS),
                )
        if "pipInstallArgs" in params and not isinstance(params["pipInstallArgs"], str):
            self.out.error(
                (*path, "parameters", "pipInstallArgs"),
                "wrong-type",
                f"expected a string, got {describe(params['pipInstallArgs'])}",
            )
        hardware = params.get("hardwareRequirements")
        if hardware is not None and not isinstance(hardware, dict):
            self.out.error(
                (*path, "parameters", "hardwareRequirements"),
                "wrong-type",
                f"expected an object, got {describe(hardware)}",
            )

    def _command(self, path: Path, params: Any, inputs: Mapping[str, Input] | None) -> str:
        """The model's command line, with every `$(...)` placeholder checked as delta-core would substitute it."""
        if not isinstance(params, dict):
            return ""  # parameters missing or not an object: the schema reported it
        where = (*path, "parameters", "command")
        command = params.get("command")
        if command is None:
            self.out.error(where, "missing-key", "missing required key: the model's command line")
            return ""
        if not isinstance(command, str):
            self.out.error(where, "wrong-type", f"expected a string, got {describe(command)}")
            return ""
        if inputs is not None:
            for segment in command.split(" "):
                self._segment(where, segment, inputs)
        return command

    def _segment(self, where: Path, segment: str, inputs: Mapping[str, Input]) -> None:
        """Check one space-separated word of a command the way delta-core substitutes it."""
        match = PLACEHOLDER.match(segment)
        if match:
            namespace, names = match.group(1), match.group(2).split(".")[1:]
            if namespace != "inputs" or len(names) != 1:
                self.out.error(
                    where,
                    "bad-placeholder",
                    f"{quote(match.group(0))}: only $(inputs.<name>) placeholders can be substituted",
                )
            elif names[0] not in inputs:
                self.out.error(
                    where,
                    "undeclared-placeholder",
                    f"{match.group(0)} names an input the model does not declare"
                    + _did_you_mean(names[0], frozenset(inputs)),
                )
            if segment[match.end() :]:
                self.out.warning(
                    where,
                    "placeholder-suffix",
                    f"{quote(segment)}: the text after {match.group(0)} is dropped when it is substituted",
                )
        elif "$(" in segment:
            self.out.warning(
                where,
                "placeholder-not-substituted",
                f"{quote(segment)}: a placeholder is only substituted at the start of a space-separated word; "
                "delta-core's bash then runs it as a command substitution (it becomes empty, with an error on stderr)",
            )
        else:
            bare = _BARE_PLACEHOLDER.fullmatch(segment)
            if bare and bare.group(1) in inputs:
                self.out.warning(
                    where,
                    "bare-placeholder",
                    f"{quote(segment)} is passed literally: write $({segment}) to substitute the input",
                )

    def _glob(self, where: Path, glob: str, inputs: Mapping[str, Input]) -> None:
        """A glob may name model inputs as `$(inputs.x)`; each must be declared."""
        for name in _GLOB_PLACEHOLDER.findall(glob):
            if name not in inputs:
                self.out.error(
                    where, "undeclared-placeholder", f"$(inputs.{name}) names an input the model does not declare"
                )

    def _python_version(self, path: Path, params: Any) -> str | None:
        """The model's Python as x.y (delta-core 1.2.7 builds images per minor version)."""
        if not isinstance(params, dict):
            return None
        where = (*path, "parameters", "pythonVersion")
        raw = params.get("pythonVersion")
        if raw is None:
            self.out.warning(
                where, "python-version", 'missing: the image builder needs a Python version such as "3.12"'
            )
            return None
        if not isinstance(raw, str):
            self.out.error(where, "wrong-type", f'expected a string such as "3.12", got {describe(raw)}')
            return None
        match = _PYTHON_VERSION.fullmatch(raw)
        if match is None:
            self.out.error(where, "bad-value", f'{quote(raw)} is not a Python version such as "3.12"')
            return None
        minor = f"{match.group(1)}.{match.group(2)}"
        if match.group(3) is not None:
            self.out.warning(
                where, "python-version", f"{quote(raw)} is read as {quote(minor)}: images are built per minor version"
            )
        if minor not in REFERENCE_PYTHONS:
            self.out.warning(
                where, "python-version", f"Python {minor} is outside the versions delta-core builds (3.10 to 3.14)"
            )
        return minor

    def _requirements(self, path: Path, raw: Any) -> tuple[Requirement, ...]:
        """pip or apt packages, each `{name, version?}`."""
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.out.error(path, "wrong-type", f"expected an array of {{name, version}} objects, got {describe(raw)}")
            return ()
        found = []
        for index, item in enumerate(raw):
            where = (*path, index)
            if not isinstance(item, dict):
                self.out.error(where, "wrong-type", f"expected an object with name and version, got {describe(item)}")
                continue
            for inner in item:
                if inner not in _REQUIREMENT_KEYS:
                    self.out.error(
                        (*where, inner), "unknown-key", "unknown key" + _did_you_mean(str(inner), _REQUIREMENT_KEYS)
                    )
            name, version = item.get("name"), item.get("version")
            if not isinstance(name, str) or not name:
                self.out.error(
                    (*where, "name"),
                    "missing-key" if name is None else "wrong-type",
                    f"a package needs a name, got {describe(name)}",
                )
                continue
            if version is not None and not isinstance(version, str):
                self.out.error((*where, "version"), "wrong-type", f"expected a string, got {describe(version)}")
                version = None
            found.append(Requirement(name, version))
        return tuple(found)

    def _strings(self, path: Path, raw: Any) -> tuple[str, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            self.out.error(path, "wrong-type", f"expected an array of file paths, got {describe(raw)}")
            return ()
        return tuple(raw)

    def _environment(self, path: Path, raw: Any) -> dict[str, str]:
        """Environment variables of the model image (`ENV k=v`), as strings."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.out.error(path, "wrong-type", f"expected an object of variables, got {describe(raw)}")
            return {}
        env = {}
        for name, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                self.out.error((*path, name), "wrong-type", f"expected a string or a number, got {describe(value)}")
                continue
            env[str(name)] = str(value)
        return env

    def _dependencies(self) -> dict[str, Dependency]:
        """Dependencies as a map; deltaVersion 1.1's `name==version` list is converted."""
        raw = self.doc.get("dependencies", {})
        if isinstance(raw, list) and self.version == "1.1":
            return self._dependency_list(raw)
        return self._map(("dependencies",), raw, self._dependency, opaque_as="dependencies")

    def _dependency(self, path: Path, key: str, body: dict) -> Dependency | None:
        self._keys(path, key, body, _DEPENDENCY_KEYS)
        id_, version = body.get("id"), body.get("version")
        if not isinstance(id_, str) or not isinstance(version, str):
            return None  # the schema reported the missing or mistyped keys
        return Dependency(key, id_, version)

    def _dependency_list(self, raw: list) -> dict[str, Dependency]:
        found: dict[str, Dependency] = {}
        for index, item in enumerate(raw):
            where = ("dependencies", index)
            if not isinstance(item, str):
                continue  # the schema reported it
            name, sep, version = item.partition("==")
            name, version = name.strip(), version.strip()
            if not sep or not name or not version:
                self.out.error(where, "bad-dependency", f"{quote(item)} is not written name==version")
                continue
            if not KEY.fullmatch(name):
                self.out.error(
                    where,
                    "bad-identifier",
                    f"{quote(name)} is not a valid name: use letters, digits, _ and -, starting with a letter",
                )
                continue
            if name in found:
                self.out.error(where, "not-unique", f"{quote(name)} is listed more than once")
                continue
            found[name] = Dependency(name, name, version)
        return found

    def _license(self, raw: Any) -> License | None:
        if not isinstance(raw, dict):
            return None
        copyrights = []
        for item in raw.get("copyrights", []) if isinstance(raw.get("copyrights"), list) else []:
            if isinstance(item, dict) and isinstance(item.get("years"), list):
                # JSON Schema counts 2024.0 as an integer: keep it, as an int
                years = tuple(int(y) for y in item["years"] if _is_integer(y))
                copyrights.append(Copyright(_str(item.get("company")) or "", years))
        return License(
            _str(raw.get("name")) or "", _str(raw.get("url")) or "", _str(raw.get("description")), tuple(copyrights)
        )

    # -- deltaVersion 1.0 -----------------------------------------------------------------------

    def _legacy_model(self) -> dict[str, Model]:
        """deltaVersion 1.0 has one model object; it is exposed as `models.model`."""
        raw = self.doc.get("models")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.opaque.add("models")
            return {}
        for inner in raw:
            if inner not in _V10_MODEL_KEYS:
                self.out.warning(("models", inner), "unknown-key", "unknown key, ignored")
        self.out.warning(
            ("models",),
            "legacy-format",
            f"deltaVersion 1.0 declares a single model: it is exposed as models.{_V10_MODEL_KEY}",
        )
        body = {k: raw[k] for k in _V10_MODEL_KEYS if k in raw}
        return {_V10_MODEL_KEY: self._model(("models",), _V10_MODEL_KEY, body)}

    def _legacy_resources(self) -> dict[str, Resource]:
        """deltaVersion 1.0 lists resources as a data folder; each item becomes a Data resource."""
        raw = self.doc.get("resources")
        if raw is None:
            return {}
        items = raw.get("items") if isinstance(raw, dict) else None
        if not isinstance(items, list):
            self.opaque.add("resources")
            return {}
        if "artifacts" in self.doc:
            self.out.warning(("artifacts",), "legacy-format", "deltaVersion 1.0 artifacts are not used")
        self.out.warning(
            ("resources",),
            "legacy-format",
            "deltaVersion 1.0 data-folder items are read as Data resources (name -> source_url)",
        )
        found: dict[str, Resource] = {}
        for index, item in enumerate(items):
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("name"), str)
                or not isinstance(item.get("source_url"), str)
            ):
                continue  # the schema reported it
            name = item["name"]
            if not KEY.fullmatch(name):
                self.out.error(
                    ("resources", "items", index, "name"),
                    "bad-identifier",
                    "invalid name: use letters, digits, _ and -, starting with a letter",
                )
                continue
            found[name] = Resource(name, "Data", DataRef(item["source_url"]))
        return found


def _fits(type_: str, value: Any) -> bool:
    """A structured default of the right JSON kind (a wrong one is a value-type error already)."""
    return {"array": isinstance(value, list), "object": isinstance(value, dict)}.get(type_, True)


def _is_integer(value: Any) -> bool:
    """An integer as JSON Schema counts one: 2024 or 2024.0, not true, 2024.5 or infinity."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
