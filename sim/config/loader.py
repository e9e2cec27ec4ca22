"""Reading scenarios: YAML, ``extends``, ``--set`` overrides, and one-line error messages.

A scenario file may extend params files (and other scenarios); they are deep-merged in order,
the extending file last. Mappings merge key by key, lists and scalars replace, and ``null``
removes an inherited key (e.g. ``events: {works_2019: null}``). The loader remembers which
file set each field, so an error in a merged document names the file the value came from.
"""

from __future__ import annotations

import copy
import pickle
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from sim.config.references import check_references
from sim.config.safe_yaml import InputProblem, load_mapping, load_value, read_text
from sim.config.scenario import Scenario
from sim.errors import ConfigError, Path_, format_path
from sim.suggest import did_you_mean, fields_at


@dataclass
class RawScenario:
    """A merged document before validation, with the file that set each field."""

    data: dict[str, Any]
    origin: dict[Path_, str] = field(default_factory=dict)
    main_file: str = ""
    own_keys: frozenset[str] = frozenset()
    """Top-level keys written in the file itself (``extends`` included), not inherited."""

    def source_of(self, path: Path_) -> str:
        for n in range(len(path), -1, -1):
            src = self.origin.get(tuple(path[:n]))
            if src is not None:
                return src
        return self.main_file


def read_yaml(path: Path) -> dict[str, Any]:
    """One YAML mapping from a file, or a ConfigError naming the field or line at fault."""
    try:
        return load_mapping(read_text(path))
    except InputProblem as exc:
        raise ConfigError(str(path), exc.path, exc.problem) from None


def merge_into(
    base: dict[str, Any],
    top: Mapping[str, Any],
    origin: dict[Path_, str],
    source: str,
    prefix: Path_ = (),
) -> None:
    """Deep-merge ``top`` into ``base`` in place, recording ``source`` for each field set."""
    for key, value in top.items():
        path = (*prefix, key)
        if value is None and key in base and prefix:
            del base[key]
            origin[path] = source
            continue
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            origin.setdefault(path, source)
            merge_into(base[key], value, origin, source, path)
        else:
            base[key] = copy.deepcopy(value)
            _mark(origin, path, value, source)


def _mark(origin: dict[Path_, str], path: Path_, value: Any, source: str) -> None:
    origin[path] = source
    if isinstance(value, Mapping):
        for k, v in value.items():
            _mark(origin, (*path, k), v, source)


MAX_EXTENDS_DEPTH = 16
"""Longest ``extends`` chain (the shipped scenarios use 3)."""
MAX_EXTENDS_FILES = 64
"""Most distinct files one scenario may read through ``extends``."""


def load_raw(path: Path) -> RawScenario:
    """Read a file and everything it extends, merged, without validating.

    Each file is read once per load even when several parents extend it (a "diamond"), so
    the work grows with the number of files, not the number of paths through them.
    """
    return _load_raw(path, (), {})


def _load_raw(path: Path, seen: tuple[Path, ...], loaded: dict[Path, RawScenario]) -> RawScenario:
    if "\0" in str(path):  # the OS refuses such a name with a ValueError, not an OSError
        raise ConfigError(repr(str(path)), (), "a file name cannot hold a NUL byte")
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise ConfigError(str(path), (), f"cannot resolve the path: {exc}") from None
    if resolved in seen:
        chain = " -> ".join(p.name for p in (*seen, resolved))
        raise ConfigError(str(path), ("extends",), f"extends itself in a cycle: {chain}")
    if resolved in loaded:
        return loaded[resolved]
    if len(seen) >= MAX_EXTENDS_DEPTH:
        raise ConfigError(
            str(path), ("extends",), f"extends chain longer than {MAX_EXTENDS_DEPTH} files"
        )
    if len(loaded) >= MAX_EXTENDS_FILES:
        raise ConfigError(
            str(path), ("extends",), f"extends more than {MAX_EXTENDS_FILES} files in all"
        )
    doc = read_yaml(path)
    parents = doc.pop("extends", None)
    if parents is None:
        parents = []
    elif isinstance(parents, str):
        parents = [parents]
    elif not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ConfigError(str(path), ("extends",), "must be a file path or a list of paths")
    if len(set(parents)) != len(parents):
        raise ConfigError(str(path), ("extends",), "lists the same file more than once")
    own = frozenset(str(k) for k in doc) | ({"extends"} if parents else set())
    merged = RawScenario(data={}, main_file=str(path), own_keys=own)
    for i, parent in enumerate(parents):
        parent_path = path.parent / parent
        where: Path_ = ("extends",) if len(parents) == 1 else ("extends", i)
        if "\0" in parent:  # checked before the OS sees it: stat() raises ValueError on it
            raise ConfigError(str(path), where, f"a file name cannot hold a NUL byte: {parent!r}")
        try:
            regular = stat.S_ISREG(parent_path.stat().st_mode)
        except OSError as exc:
            reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror
            raise ConfigError(str(path), where, f"{reason}: {parent}") from None
        if not regular:
            raise ConfigError(str(path), where, f"not a regular file: {parent}")
        inner = _load_raw(parent_path, (*seen, resolved), loaded)
        merge_into(merged.data, inner.data, merged.origin, "")
        merged.origin.update(inner.origin)
    merge_into(merged.data, doc, merged.origin, str(path))
    if "name" not in doc:  # the default is this file's name, not that of a file it extends
        merged.data["name"] = path.stem
    loaded[resolved] = merged
    return merged


def parse_override(text: str) -> tuple[Path_, Any]:
    """``nodes.brest.servers=4`` → (('nodes', 'brest', 'servers'), 4); the value is YAML.
    A leading ``+`` (may add an element) is not part of the path: see :func:`wants_new`."""
    if "=" not in text:
        raise ConfigError("--set", (), f"'{text}' is not of the form dotted.path=value")
    key, _, raw_value = text.partition("=")
    key = key.strip().removeprefix("+")
    parts: list[str | int] = []
    for part in key.strip().split("."):
        if not part:
            raise ConfigError("--set", (), f"'{key}' has an empty path segment")
        parts.append(int(part) if part.lstrip("-").isdigit() else part)
    try:
        value = load_value(raw_value) if raw_value.strip() else ""
    except InputProblem:  # not YAML, or an impossible date: validation says what is wrong
        value = raw_value
    return tuple(parts), value


ELEMENTS = {"nodes": "node", "links": "link", "routes": "route", "flows": "flow", "events": "event"}


def check_element_exists(raw: RawScenario, path: Path_, source: str, create: bool) -> None:
    """An override never adds a node, link, route, flow or event by accident: a typo such as
    ``nodes.brset.servers=2`` would otherwise run with an extra, empty node and exit 0. Adding
    one is asked for with a ``+`` before the key (``+events.strike={...}``)."""
    if len(path) < 2 or path[0] not in ELEMENTS or create:
        return
    group = raw.data.get(str(path[0]))
    known = group if isinstance(group, dict) else {}
    if path[1] in known:
        return
    kind = ELEMENTS[str(path[0])]
    raise ConfigError(
        source,
        path[:2],
        f"no {kind} '{path[1]}' in the scenario{did_you_mean(str(path[1]), known)}; "
        f"to add one, write the key with a + in front (+{format_path(path)}=...)",
    )


def wants_new(text: str) -> bool:
    """``+events.strike={...}``: the user asks for an element the scenario does not have."""
    return text.lstrip().startswith("+")


def apply_override(
    raw: RawScenario, path: Path_, value: Any, source: str, create: bool = False
) -> None:
    """Set one field of the merged document; intermediate mappings are created if missing,
    but a scenario element (node, link, route, flow, event) only when ``create`` is set."""
    check_element_exists(raw, path, source, create)
    cur: Any = raw.data
    for i, part in enumerate(path[:-1]):
        if isinstance(cur, list) and isinstance(part, int):
            if not -len(cur) <= part < len(cur):
                raise ConfigError(source, path[: i + 1], f"index {part} is out of range")
            cur = cur[part]
        elif isinstance(cur, dict):
            nxt = cur.get(part)
            if not isinstance(nxt, dict | list):
                nxt = {}
                cur[part] = nxt
            cur = nxt
        else:
            raise ConfigError(source, path[: i + 1], "is not a mapping or a list")
    last = path[-1]
    if isinstance(cur, list):
        if not isinstance(last, int) or not -len(cur) <= last < len(cur):
            raise ConfigError(source, path, "is not a valid list index")
        cur[last] = value
    else:
        cur[last] = value
    _mark(raw.origin, path, value, source)


def validate_raw(raw: RawScenario) -> Scenario:
    """Validate a merged document; the first problem becomes a ConfigError."""
    try:
        scenario = Scenario.model_validate(raw.data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        path = _document_path(raw.data, first["loc"])
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        hint = _typo_of_element(raw, path) if first["type"] == "missing" else ""
        raise ConfigError(raw.source_of(path), path, _message(first) + more + hint) from None
    problems = check_references(scenario)
    if problems:
        path, message = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise ConfigError(raw.source_of(path), path, message + more)
    return scenario


def _typo_of_element(raw: RawScenario, path: Path_) -> str:
    """A required field missing from an element whose name is close to another's is most
    likely a typo that made a new element instead of changing one."""
    if len(path) < 3 or path[0] not in ELEMENTS:
        return ""
    group = raw.data.get(str(path[0]))
    others = [k for k in group if k != path[1]] if isinstance(group, dict) else []
    hint = did_you_mean(str(path[1]), others)
    if not hint:
        return ""
    return f"; '{path[1]}' is a new {ELEMENTS[str(path[0])]}{hint}"


def _message(error: Mapping[str, Any]) -> str:
    msg = str(error["msg"])
    if error["type"] == "extra_forbidden":
        loc = [p for p in error["loc"] if not (isinstance(p, str) and "[" in p)]
        known = fields_at(Scenario, loc[:-1]) if loc else []
        return "unknown field" + (did_you_mean(str(loc[-1]), known) if loc else "")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    value = error.get("input")
    quiet = ("missing", "value_error")  # our own value errors already say what was given
    if error["type"] not in quiet and "input" in error and not isinstance(value, dict | list):
        shown = repr(value) if not isinstance(value, str) or len(value) <= 40 else ""
        if shown and len(shown) <= 40:
            msg += f" (got {shown})"
    return msg


def _document_path(data: Any, loc: Iterable[str | int]) -> Path_:
    """Drop the union-tag parts pydantic adds to locations (e.g. ``exponential``)."""
    out: list[str | int] = []
    cur: Any = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif (isinstance(cur, dict) and cur.get("dist") == part) or (
            isinstance(part, str) and "[" in part
        ):
            continue  # a union tag or validator wrapper, not a field of the document
        else:
            out.append(part)
            cur = None
    return tuple(out)


def validate_fragment(raw: RawScenario) -> None:
    """Check a params file that is not a whole scenario (e.g. demand only), section by section.

    Cross-references are checked when a scenario merges the fragment with the rest.
    """
    for key, value in raw.data.items():
        field_info = Scenario.model_fields.get(str(key))
        if field_info is None or field_info.annotation is None:
            raise ConfigError(raw.source_of((key,)), (key,), "unknown field")
        try:
            TypeAdapter(field_info.annotation).validate_python(value)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            path = (key, *_document_path(value, errors[0]["loc"]))
            more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
            raise ConfigError(raw.source_of(path), path, _message(errors[0]) + more) from None


def load_scenario(
    path: str | Path, overrides: Iterable[str] = (), values: Mapping[str, Any] | None = None
) -> tuple[Scenario, RawScenario]:
    """Load, merge, override and validate a scenario file.

    ``overrides`` are ``dotted.path=value`` strings (the CLI's ``--set``); ``values`` maps dotted
    paths to already-typed values (used by sweeps). Returns the scenario and the merged raw
    document (kept for the manifest and for error attribution).
    """
    raw = load_raw(Path(path))
    changed: list[Path_] = []
    for text in overrides:
        key, value = parse_override(text)
        apply_override(raw, key, value, f"--set {text}", create=wants_new(text))
        changed.append(key)
    for dotted, value in (values or {}).items():
        key, _ = parse_override(f"{dotted}=0")
        apply_override(raw, key, value, f"{dotted}={value}", create=wants_new(dotted))
        changed.append(key)
    derive_servers(raw, changed)
    return validate_raw(raw), raw


def copy_document(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a loaded document (mappings, lists, scalars, dates), through pickle:
    about 4× faster than ``copy.deepcopy`` on the network, which a sweep copies per point."""
    copied: dict[str, Any] = pickle.loads(pickle.dumps(data, pickle.HIGHEST_PROTOCOL))
    return copied


def with_values(
    raw: RawScenario, values: Mapping[str, Any], overrides: Iterable[str] = ()
) -> Scenario:
    """A loaded document with ``--set`` overrides and typed values set, validated, the
    document left as it was (one read of the files for many variants of a scenario: a run's
    draws, a scenario in memory given overrides)."""
    variant = RawScenario(copy_document(raw.data), dict(raw.origin), raw.main_file, raw.own_keys)
    changed: list[Path_] = []
    for text in overrides:
        key, value = parse_override(text)
        apply_override(variant, key, value, f"--set {text}", create=wants_new(text))
        changed.append(key)
    for dotted, value in values.items():
        key, _ = parse_override(f"{dotted}=0")
        apply_override(variant, key, value, f"{dotted}={value}", create=wants_new(dotted))
        changed.append(key)
    derive_servers(variant, changed)
    return validate_raw(variant)


def derive_servers(raw: RawScenario, changed: Iterable[Path_]) -> None:
    """A node's ``servers`` is the sum of its ``servers_by_direction``: when an override changes
    the split and not ``servers``, the inherited total is dropped so the node derives it again
    (``--set nodes.brest.servers_by_direction.west=2`` alone used to fail with "servers (8)
    must equal the sum of servers_by_direction (4)"). Both set, and contradicting, is still an
    error."""
    split = {p[1] for p in changed if len(p) >= 3 and p[0] == "nodes" and p[2] == _SPLIT}
    total = {
        p[1] for p in changed if len(p) >= 2 and p[0] == "nodes" and p[2:] in ((), ("servers",))
    }
    nodes = raw.data.get("nodes")
    for nid in split - total:
        node = nodes.get(nid) if isinstance(nodes, dict) else None
        if isinstance(node, dict) and isinstance(node.get(_SPLIT), dict):
            node.pop("servers", None)


_SPLIT = "servers_by_direction"
