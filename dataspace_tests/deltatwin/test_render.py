"""Command rendering: delta-core's string exactly, and the argument vector that no value can break out of."""

from __future__ import annotations

import pytest

from dataspace_assets.deltatwin.coercion import coerce, edge_rule
from dataspace_assets.deltatwin.inputs import Secret
from dataspace_assets.deltatwin.manifest import Input
from dataspace_assets.deltatwin.render import glob_pattern, render_argv, render_command
from dataspace_assets.deltatwin.values import DataFile
from dataspace_assets.errors import DataspaceError

PORTS = {
    "flag": Input("flag", "boolean", prefix="--flag-t"),
    "bare": Input("bare", "boolean"),
    "n": Input("n", "integer", prefix="-n"),
    "x": Input("x", "number", prefix="-x"),
    "s": Input("s", "string", prefix="--s"),
    "p": Input("p", "string"),
    "d": Input("d", "Data", prefix="--data"),
    "k": Input("k", "secret", prefix="--key"),
    "a": Input("a", "array"),
    "dflt": Input("dflt", "integer", default=4),
}
FILE = DataFile("/abs/in put.tif", 3, "md5@x")


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("run $(inputs.flag)", {"flag": True}, "run --flag-t"),
        ("run $(inputs.flag) end", {"flag": False}, "run end"),
        ("run $(inputs.bare)", {"bare": True}, "run"),
        ("run $(inputs.n)", {"n": 3}, "run -n 3"),
        ("run $(inputs.x)", {"x": 2}, "run -x 2.0"),
        ("run $(inputs.s)", {"s": "a b;echo INJ"}, "run --s a b;echo INJ"),
        ("run $(inputs.p) $(inputs.p) $(inputs.p) end", {"p": ""}, "run  end"),  # one collapse pass only
        ("run $(inputs.d)", {"d": FILE}, "run --data /abs/in put.tif"),
        ("run $(inputs.a)", {"a": [1]}, "run"),
        ("run $(inputs.dflt)", {}, "run 4"),
        ("run $(inputs.n)/suffix", {"n": 3}, "run -n 3"),
        ("run --k=$(inputs.n)", {"n": 3}, "run --k=$(inputs.n)"),
        ("run inputs.n", {"n": 3}, "run inputs.n"),
    ],
)
def test_render_command_is_delta_core_exactly(template, values, expected) -> None:
    assert render_command(template, PORTS, values)[0] == expected


def test_secrets_are_masked_by_position_in_the_shown_command() -> None:
    real, shown = render_command("run $(inputs.k) $(inputs.p)", PORTS, {"k": Secret("s"), "p": "s"})
    assert real == "run --key s s"
    assert shown == "run --key *** s"  # the other "s" is not the secret's position: never masked by substring
    argv = render_argv("run $(inputs.k) $(inputs.p)", PORTS, {"k": Secret("s"), "p": "s"}, where="m")
    assert argv.argv == ("run", "--key", "s", "s")
    assert argv.masked_argv == ("run", "--key", "***", "s")
    assert argv.secrets == ("s",)


def test_argv_mode_keeps_words_and_places() -> None:
    rendered = render_argv(
        "python main.py $(inputs.p) $(inputs.s) $(inputs.d) $(inputs.x)",
        PORTS,
        {"p": "", "s": "a b;echo INJ", "d": FILE, "x": 2},
        where="m",
    )
    # the empty value keeps its place, the string is split like bash splits words, the path stays one word
    assert rendered.argv == ("python", "main.py", "", "--s", "a", "b;echo", "INJ", "--data", "/abs/in put.tif", "-x", "2.0")


def test_argv_mode_refuses_shell_syntax_in_the_template() -> None:
    with pytest.raises(DataspaceError, match="shell operator '&&'"):
        render_argv("python a.py && python b.py", PORTS, {}, where="model m")


def test_glob_placeholders_take_edge_values_or_defaults() -> None:
    ports = {"level": Input("level", "string", default="L1C"), "d": Input("d", "Data")}
    assert glob_pattern("S2_$(inputs.level)_raw.npz", ports, {}, where="m") == "S2_L1C_raw.npz"
    assert glob_pattern("$(inputs.d).out", ports, {"d": FILE}, where="m") == "in put.tif.out"
    with pytest.raises(DataspaceError, match="has no value"):
        glob_pattern("$(inputs.d)", ports, {}, where="m")


@pytest.mark.parametrize(
    ("source", "target", "verdict"),
    [
        ("integer", "number", "ok"),
        ("number", "integer", "error"),
        ("Data", "string", "reference-crash"),
        ("Data", "stdout", "ok"),
        ("secret", "string", "error"),
        ("string", "secret", "reference-crash"),
        ("integer", "string", "reference-crash"),
        ("string", "Data", "error"),
        ("boolean", "integer", "error"),
    ],
)
def test_coercion_table(source, target, verdict) -> None:
    assert edge_rule(source, target).verdict == verdict


def test_coerce_keeps_ints_and_gives_paths() -> None:
    assert coerce(20, "number", where="p") == 20 and isinstance(coerce(20, "number", where="p"), int)
    assert coerce(FILE, "string", where="p") == "/abs/in put.tif"
    assert coerce(True, "string", where="p") == "true"
    with pytest.raises(DataspaceError, match="cannot reach a integer port"):
        coerce(2.5, "integer", where="p")
