"""Command lines of model nodes, rendered as delta-core renders them, and run as an argument vector by default.

`render_command` reproduces delta-core 1.2.7 exactly (the string it hands to `bash -c`); `render_argv`
renders the same words without a shell, so no value can inject a command, mask the model's exit status
or make an argument vanish. Both return the real text and a copy with every secret shown as `***`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from dataspace_assets.deltatwin.coercion import reveal
from dataspace_assets.deltatwin.inputs import MASK
from dataspace_assets.deltatwin.manifest import PLACEHOLDER, Input
from dataspace_assets.deltatwin.values import DataFile, TwinValue, is_secret
from dataspace_assets.errors import DataspaceError

SHELL_MODE = "bash"
ARGV_MODE = "argv"
MODES = (ARGV_MODE, SHELL_MODE)

# Words that only mean something to a shell: a template using them needs the bash mode.
SHELL_WORDS = frozenset({"&&", "||", "|", ";", "&", ">", ">>", "<", "2>", "2>&1", "<<"})
_GLOB_PLACEHOLDER = re.compile(r"\$\(inputs\.([a-z][A-Za-z0-9_-]*)\)")


@dataclass(frozen=True)
class Rendered:
    """What a model node runs: the argument vector (real and masked) and the command line as shown."""

    argv: tuple[str, ...]
    masked_argv: tuple[str, ...]
    text: str  # the masked command line, for logs, tags and metadata

    @property
    def secrets(self) -> tuple[str, ...]:
        """The real words that were masked (a model printing them gets them masked in its log too)."""
        return tuple(real for real, shown in zip(self.argv, self.masked_argv, strict=True) if real != shown)


def _value_words(port: Input, value: TwinValue, *, split: bool, keep_empty: bool) -> tuple[list[str], list[str]]:
    """One port's rendering as (real words, masked words), by the port's declared type (delta-core's rules)."""
    if value is None:
        return [], []
    prefix = port.prefix.split() if port.prefix else []
    kind = port.type
    if kind == "boolean":
        words = prefix if value is True and prefix else []
        return list(words), list(words)
    if kind == "integer":
        text = str(int(value))  # type: ignore[arg-type]
    elif kind == "number":
        text = str(float(value))  # type: ignore[arg-type]
    elif kind in ("Data", "stdout"):
        text = value.path if isinstance(value, DataFile) else str(value)
        return [*prefix, text], [*prefix, text]  # a path is one word, even with spaces in it
    elif kind == "secret":
        if not is_secret(value):
            raise DataspaceError(f"input {port.name}: a secret port received a {type(value).__name__}")
        real = reveal(value)  # type: ignore[arg-type]
        return [*prefix, real], [*prefix, MASK]
    elif kind == "string":
        text = str(value)
        if text == "":
            # delta-core drops the word (and its prefix): positional arguments shift. Without a shell an
            # empty value keeps its place as one empty argument; a flag with an empty value is left out.
            return ([""], [""]) if keep_empty and not prefix else ([], [])
    else:
        return [], []  # array, object, json and unknown types render empty, as in delta-core
    words = text.split() if split else [text]
    return [*prefix, *words], [*prefix, *words]


def render_command(template: str, ports: Mapping[str, Input], values: Mapping[str, TwinValue]) -> tuple[str, str]:
    """delta-core's command string (real, masked): single-space segments, leading placeholders replaced whole."""
    real, shown = [], []
    for segment in template.split(" "):
        match = PLACEHOLDER.match(segment)
        if match is None:
            real.append(segment)
            shown.append(segment)
            continue
        name = match.group(2).split(".")[-1]
        port = ports[name]
        words, masked_words = _value_words(port, values.get(name, port.default), split=True, keep_empty=False)
        real.append(" ".join(words))
        shown.append(" ".join(masked_words))
    return _collapse(real), _collapse(shown)


def _collapse(segments: list[str]) -> str:
    # exactly delta-core's one pass: three empty placeholders in a row still leave a double space
    return " ".join(segments).strip().replace("  ", " ")


def template_words(template: str, *, where: str) -> list[str]:
    """The template's words as a shell would read its quoting, refusing shell syntax (that needs the bash mode)."""
    try:
        words = shlex.split(template)
    except ValueError as exc:
        raise DataspaceError(f"{where}: cannot split the command into words ({exc})") from exc
    for word in words:
        if word in SHELL_WORDS:
            raise DataspaceError(
                f'{where}: the command uses the shell operator {word!r}; set mode = "bash" under [run] in bindings.toml'
            )
    if not words:
        raise DataspaceError(f"{where}: the command is empty")
    return words


def render_argv(
    template: str, ports: Mapping[str, Input], values: Mapping[str, TwinValue], *, where: str
) -> Rendered:
    """The argument vector: template words kept, a word starting with a placeholder replaced by its rendering.

    String values are split on whitespace as bash would split them (real twins pass `--bbox $(inputs.bbox)`
    with four numbers in one string); nothing else a shell does happens: no `;`, `&&`, `$( )`, globs or quotes.
    """
    real: list[str] = []
    shown: list[str] = []
    for word in template_words(template, where=where):
        match = PLACEHOLDER.match(word)
        if match is None:
            real.append(word)
            shown.append(word)
            continue
        name = match.group(2).split(".")[-1]
        if name not in ports:
            raise DataspaceError(f"{where}: {match.group(0)} names an input the model does not declare")
        port = ports[name]
        words, masked_words = _value_words(port, values.get(name, port.default), split=True, keep_empty=True)
        real.extend(words)
        shown.extend(masked_words)
    return Rendered(tuple(real), tuple(shown), " ".join(w if w == MASK else shlex.quote(w) for w in shown))


def render_bash(template: str, ports: Mapping[str, Input], values: Mapping[str, TwinValue]) -> Rendered:
    """The faithful mode: delta-core's string run by `bash -c` (values unquoted, as the reference runs them)."""
    real, shown = render_command(template, ports, values)
    return Rendered(("/bin/bash", "-c", real), ("/bin/bash", "-c", shown), shown)


def glob_pattern(glob: str, ports: Mapping[str, Input], values: Mapping[str, TwinValue], *, where: str) -> str:
    """A model output's glob with `$(inputs.x)` replaced: a file by its base name, else the value as text.

    The value comes from the edge or, unlike delta-core 1.2.7 (a KeyError), from the port's default.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        port = ports.get(name)
        value = values.get(name, port.default if port is not None else None)
        if value is None:
            raise DataspaceError(f"{where}: glob {glob!r}: $(inputs.{name}) has no value (no edge and no default)")
        if isinstance(value, DataFile):
            return value.name
        if is_secret(value):
            return reveal(value)  # type: ignore[arg-type]
        return str(value)

    return _GLOB_PLACEHOLDER.sub(substitute, glob)
