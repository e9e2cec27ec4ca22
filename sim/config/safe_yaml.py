"""Reading one YAML file defensively: whatever the bytes, a mapping or one ``InputProblem``.

Scenario and params files are small hand-written text, so anything far from that is refused
with a plain reason before it can cost memory or time: special files (``/dev/zero`` never
ends), files over :data:`MAX_BYTES`, bytes that are not UTF-8, nesting deeper than
:data:`MAX_DEPTH`, documents that grow past :data:`MAX_VALUES` values once aliases are
expanded (an 850-byte "billion laughs" would otherwise grow past gigabytes when validated),
duplicate keys (YAML keeps the last silently) and tags that fail to construct
(``!!int abc``, an impossible date such as ``2023-02-30``). Each problem carries the field
path of the value at fault, so the caller can print ``FILE: FIELD: problem``.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1 << 20
"""A scenario or params file is a few KB (the network, the largest, is ~21 KB)."""
MAX_DEPTH = 40
"""Deepest nesting of mappings/lists; the scenario format needs about 8."""
MAX_VALUES = 200_000
"""Values in the document with aliases expanded; the shipped network has ~3,000."""

DATE_FORMATS = "YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]"

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class InputProblem(Exception):
    """A file that cannot be read as a YAML mapping: the field path (maybe empty) and why."""

    def __init__(self, path: tuple[str | int, ...], problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(problem)


class _BadValue(yaml.YAMLError):
    """A tagged scalar whose constructor failed; carries the node for its field path."""

    def __init__(self, node: yaml.Node, cause: BaseException) -> None:
        self.node = node
        self.cause = cause
        super().__init__(str(cause))


class _Loader(_BaseLoader):  # type: ignore[valid-type, misc]
    """libyaml's parser when present (~5× faster), with constructor failures made catchable."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, RecursionError, MemoryError):
            raise
        except Exception as exc:  # ValueError, KeyError, ... from a scalar's constructor
            raise _BadValue(node, exc) from None


def read_text(path: Path) -> str:
    """The file's text: a regular file, at most MAX_BYTES, strictly UTF-8 (a BOM is allowed)."""
    if "\0" in str(path):  # stat() would raise ValueError, not OSError
        raise InputProblem((), "a file name cannot hold a NUL byte")
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputProblem((), "no such file") from None
    except OSError as exc:
        raise InputProblem((), f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "a device, pipe or socket"
        raise InputProblem((), f"is {what}, not a YAML file")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputProblem((), f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise InputProblem((), f"is larger than {MAX_BYTES // 1024} KiB; not a scenario file")
    return decode(data)


def decode(data: bytes) -> str:
    """Strict UTF-8, with the reason a file is not (UTF-16, compressed, binary) in words."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 1 and b"\x00" in data[:2]):
        raise InputProblem((), "is UTF-16 text; save it as UTF-8")
    if data.startswith(b"\x1f\x8b"):
        raise InputProblem((), "is gzip-compressed; decompress it first")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        raise InputProblem(
            (), f"is not UTF-8 text (byte 0x{byte:02x} at offset {exc.start}); save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise InputProblem((), "contains NUL bytes; not a text file")
    return text.removeprefix("\ufeff")


def load_mapping(text: str) -> dict[str, Any]:
    """Parse, check the shape (depth, size, duplicate keys), then construct; {} when empty."""
    data = load_value(text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputProblem((), f"expected a mapping at the top, got {type(data).__name__}")
    return data


def load_value(text: str) -> Any:
    """Any YAML value (a ``--set`` value, a whole file) under the same checks; None if empty."""
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise InputProblem((), _syntax(exc)) from None
        except RecursionError:
            raise InputProblem((), f"nested more than {MAX_DEPTH} levels deep") from None
        if node is None:
            return None
        paths = _check_shape(node)
        try:
            data = loader.construct_document(node)
        except _BadValue as exc:
            raise InputProblem(paths.get(id(exc.node), ()), _bad_value(exc)) from None
        except yaml.YAMLError as exc:
            raise InputProblem((), _syntax(exc)) from None
        except RecursionError:
            raise InputProblem((), f"nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
    return data


def _syntax(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["invalid YAML"])[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"YAML syntax error: {where}{problem}"


def _bad_value(exc: _BadValue) -> str:
    node = exc.node
    value = node.value if isinstance(node, yaml.ScalarNode) else f"a {type(node).__name__}"
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "...'"
    line = node.start_mark.line + 1 if node.start_mark else 0
    if node.tag == "tag:yaml.org,2002:timestamp":
        reason = f" ({exc.cause})" if isinstance(exc.cause, ValueError) else ""
        return f"{shown} is not a valid date{reason}, line {line}; write {DATE_FORMATS}"
    tag = node.tag.rsplit(":", 1)[-1]
    return f"{shown} cannot be read as !!{tag}, line {line}"


def _check_shape(root: yaml.Node) -> dict[int, tuple[str | int, ...]]:
    """Walk the node graph (aliases expanded, iteratively): depth, size and duplicate keys.

    Returns each node's first field path, so a constructor failure can name its field.
    A recursive anchor makes the walk ever deeper, so the depth cap also catches it.
    """
    paths: dict[int, tuple[str | int, ...]] = {}
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    seen = 0
    while stack:
        node, path = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise InputProblem((), f"has more than {MAX_VALUES:,} values once aliases are expanded")
        if len(path) > MAX_DEPTH:
            raise InputProblem(path[:3], f"nested more than {MAX_DEPTH} levels deep")
        paths.setdefault(id(node), path)
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, (*path, i)) for i, child in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            keys: dict[tuple[str, str], int] = {}
            for key, child in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.tag == "tag:yaml.org,2002:merge" or key.value == "<<":
                        stack.append((child, path))
                        continue
                    line = key.start_mark.line + 1 if key.start_mark else 0
                    if (key.tag, key.value) in keys:
                        first = keys[(key.tag, key.value)]
                        raise InputProblem(
                            (*path, key.value), f"duplicate key (first on line {first})"
                        )
                    keys[(key.tag, key.value)] = line
                    label: str | int = key.value
                else:
                    label = "?"
                    stack.append((key, path))
                stack.append((child, (*path, label)))
    return paths
