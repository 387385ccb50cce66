"""Safe YAML loading that remembers where every key and value came from.

PyYAML's ``safe_load`` forgets positions; validation messages need them
(``MLproject:9:6: slo: ...``). This module composes the node graph once,
constructs plain Python data from it with the safe constructor, and records
the 1-based line/column of every key and value by path.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

PathKey = tuple[Any, ...]

# libyaml's parser when PyYAML was built with it (every manylinux wheel is): ~10x faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Limits far beyond any real MLproject or platform.yaml, far below what hurts:
# aliases can make a small text stand for billions of values ("billion laughs").
MAX_DEPTH = 64
MAX_VALUES = 100_000


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True)
class DuplicateKey:
    path: PathKey
    position: Position
    first: Position


@dataclass
class YamlDocument:
    """Loaded data plus positions of keys and values, addressed by path tuples."""

    data: Any
    keys: dict[PathKey, Position] = field(default_factory=dict)
    values: dict[PathKey, Position] = field(default_factory=dict)
    plain_scalars: dict[PathKey, str] = field(default_factory=dict)
    duplicates: list[DuplicateKey] = field(default_factory=list)

    def key_position(self, path: PathKey) -> Position:
        """Where the key of ``path`` is written (its nearest known ancestor otherwise)."""
        return self._nearest(self.keys, path) or self.value_position(path)

    def value_position(self, path: PathKey) -> Position:
        """Where the value at ``path`` starts (its nearest known ancestor otherwise)."""
        return self._nearest(self.values, path) or Position(1, 1)

    def value_at(self, path: PathKey) -> Any:
        """The loaded value at ``path`` (None when the path leads nowhere)."""
        value = self.data
        for key in path:
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                return None
        return value

    def below(self, prefix: PathKey, rename: dict[Any, Any] | None = None) -> YamlDocument:
        """The part of the document at ``prefix`` as a document of its own, its keys
        renamed by ``rename`` one level below the prefix (positions stay those of the text)."""
        rename = rename or {}
        size = len(prefix)

        def moved(table: dict[PathKey, Any]) -> dict[PathKey, Any]:
            return {
                (rename.get(path[size], path[size]), *path[size + 1 :]) if path[size:] else (): at
                for path, at in table.items()
                if path[:size] == prefix
            }

        data: Any = self.data
        for key in prefix:
            data = data[key]
        if isinstance(data, dict):
            data = {rename.get(key, key): value for key, value in data.items()}
        return YamlDocument(data, moved(self.keys), moved(self.values), moved(self.plain_scalars))

    @staticmethod
    def _nearest(table: dict[PathKey, Position], path: PathKey) -> Position | None:
        for end in range(len(path), -1, -1):
            found = table.get(tuple(path[:end]))
            if found is not None:
                return found
        return None


class YamlSyntaxError(Exception):
    """The text is not valid YAML, or not plain data (tags, unhashable keys)."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _position(mark: yaml.Mark | None) -> Position:
    if mark is None:
        return Position(1, 1)
    return Position(mark.line + 1, mark.column + 1)


def _syntax_message(error: yaml.MarkedYAMLError, text: str) -> str:
    problem = (error.problem or "invalid YAML").strip()
    context = (error.context or "").strip()
    if error.context_mark is not None and context:
        context = f"{context} at line {error.context_mark.line + 1}"
    if problem.startswith("but "):  # the composer phrases it "<context>, but <problem>"
        message = f"{context}, {problem}" if context else problem
    else:
        message = f"{problem} ({context})" if context else problem
    found = _text_at(text, error.problem_mark)
    if found == "-" or found.startswith("- "):
        message += "; a list must be the value of a key, e.g. 'packages:' on the line above"
    elif found.startswith("\t"):
        message += "; indent with spaces, not tabs"
    return message


def _text_at(text: str, mark: yaml.Mark | None) -> str:
    """The rest of the line at ``mark``."""
    lines = text.splitlines()
    if mark is None or mark.line >= len(lines):
        return ""
    return lines[mark.line][mark.column :]


def load(text: str, max_values: int = MAX_VALUES) -> YamlDocument:
    """Parse one YAML document safely; raise :class:`YamlSyntaxError` with a position.
    ``max_values``: how many values the document may have, aliases expanded."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_shape(loader, node, max_values)
        data = loader.construct_document(node) if node is not None else None
        document = YamlDocument(data=data)
        if node is not None:
            document.values[()] = _position(node.start_mark)
            _walk(loader, node, (), document, set())
    except yaml.MarkedYAMLError as error:
        raise YamlSyntaxError(_syntax_message(error, text), _position(error.problem_mark)) from None
    except yaml.YAMLError as error:  # reader errors: bad bytes, control characters
        mark = getattr(error, "position", None)
        raise YamlSyntaxError(str(error).splitlines()[0], Position(1, (mark or 0) + 1)) from None
    finally:
        loader.dispose()
    return document


class Unsure(Exception):
    """``plain_data`` cannot tell that ``load`` would read the text so: ask ``load``, which
    decides and words the problem."""


_MERGE_TAGS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")


class _PlainLoader(_Loader):  # type: ignore[misc, valid-type]
    """Constructs the data ``load`` constructs, refusing merge keys and duplicate keys,
    which ``load`` judges by its node graph."""

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        if any(key.tag in _MERGE_TAGS for key, _ in node.value):
            raise Unsure
        super().flatten_mapping(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        if len(mapping) != len(node.value):  # a key written twice
            raise Unsure
        return mapping


def plain_data(text: str, max_values: int = MAX_VALUES) -> Any:
    """The data ``load(text, max_values)`` gives, read without positions — no walk of the
    node graph, half the time — for a text ``load`` accepts without a duplicate key.
    Raises :class:`Unsure` otherwise (an error, a limit reached, a merge or a duplicate
    key): what to report is for ``load`` to say, with its positions. Aliases construct
    shared values, as in ``load``; the walk of the data counts them expanded and stops at
    the limits, so neither an alias bomb nor a recursive value holds it up."""
    loader = _PlainLoader(text)
    try:
        data = loader.get_single_data()
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError):
        raise Unsure from None
    finally:
        loader.dispose()
    if not _within_limits(data, max_values):
        raise Unsure
    return data


_PLAIN_SCALARS = (str, int, float, bool, type(None))


def _within_limits(data: Any, max_values: int) -> bool:
    """Whether constructed data is mappings, lists and plain scalars only, and stays below
    ``load``'s limits — counted as ``_check_shape`` counts nodes, every key and value, a
    shared one at each of its places (a recursive one ends deeper than the limit). Sets,
    pairs and dates say False: ``load`` judges them."""
    count = 0
    pending = [(data, 0)]
    while pending:
        item, depth = pending.pop()
        count += 1
        if depth >= MAX_DEPTH or count >= max_values:
            return False
        kind = type(item)
        if kind is dict:
            for key, value in item.items():
                pending.append((key, depth + 1))
                pending.append((value, depth + 1))
        elif kind is list:
            pending.extend((child, depth + 1) for child in item)
        elif kind not in _PLAIN_SCALARS:
            return False
    return True


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


_INT_TAG = "tag:yaml.org,2002:int"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# Scalars whose construction can fail although the parser accepted them, and why.
_UNCONSTRUCTABLE = {
    _INT_TAG: f"a number of more than {sys.get_int_max_str_digits()} digits",
    _TIMESTAMP_TAG: "not a valid date or time",
}


def _check_scalar(loader: yaml.SafeLoader, node: yaml.Node) -> None:
    """Construct the scalars whose construction may raise (huge integers, dates such as
    2024-02-30) one by one, so that a failure names its position."""
    reason = _UNCONSTRUCTABLE.get(node.tag) if isinstance(node, yaml.ScalarNode) else None
    if reason is None:
        return
    try:
        loader.construct_object(node)
    except (ValueError, OverflowError):
        raise YamlSyntaxError(
            f"YAML cannot read {node.value[:40]!r}: {reason}; quote it if it is text",
            _position(node.start_mark),
        ) from None


def _check_shape(loader: yaml.SafeLoader, root: yaml.Node, max_values: int) -> None:
    """Refuse a document that is recursive, nested too deeply, too large, or that aliases
    blow up, and any scalar that cannot be constructed.

    Walks the node graph once (aliases share nodes), counting each node's expanded
    size — what a consumer walking the loaded data would see.
    """
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    shared = False  # an alias made a node count more than once
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, finished = stack.pop()
        key = id(node)
        if finished:
            in_progress.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > max_values:
                message = (
                    f"YAML aliases expand this document to more than {max_values} values"
                    if shared
                    else f"the document has more than {max_values} values"
                )
                raise YamlSyntaxError(message, _position(node.start_mark))
            continue
        if key in sizes:
            shared = True
            continue
        _check_scalar(loader, node)
        if key in in_progress:
            raise YamlSyntaxError(
                "a YAML alias refers to a value that contains it (a recursive structure)",
                _position(node.start_mark),
            )
        if depth > MAX_DEPTH:
            raise YamlSyntaxError(
                f"values are nested more than {MAX_DEPTH} levels deep", _position(node.start_mark)
            )
        in_progress.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))


def _scalar_key(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_object(node)
    return None  # complex keys cannot be addressed by path


def _walk(
    loader: yaml.SafeLoader, node: yaml.Node, path: PathKey, document: YamlDocument, seen: set[int]
) -> None:
    # Aliases share nodes: walk each node once, so an alias bomb stays linear.
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[Any, Position] = {}
        for key_node, value_node in node.value:
            key = _scalar_key(loader, key_node)
            child = (*path, key)
            key_position = _position(key_node.start_mark)
            if key in first_seen:
                document.duplicates.append(DuplicateKey(child, key_position, first_seen[key]))
                continue
            first_seen[key] = key_position
            document.keys[child] = key_position
            document.values[child] = _position(value_node.start_mark)
            _record_scalar(value_node, child, document)
            _walk(loader, value_node, child, document, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            document.keys[child] = document.values[child] = _position(item.start_mark)
            _record_scalar(item, child, document)
            _walk(loader, item, child, document, seen)


def _record_scalar(node: yaml.Node, path: PathKey, document: YamlDocument) -> None:
    # Plain (unquoted) style is None in PyYAML's parser and "" in libyaml's.
    if isinstance(node, yaml.ScalarNode) and not node.style:
        document.plain_scalars[path] = node.value
