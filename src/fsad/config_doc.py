"""The table of config keys in config/README.md, generated from ``config.schema.yaml``.

The schema already holds every key, its type, default and meaning (it is what validation
and the defaults use), so the table is written from it rather than by hand: a key added,
renamed or re-defaulted in the schema shows up in the docs when they are regenerated
(``fsad config --markdown --into config/README.md``, i.e. ``make config-docs``), and a test
fails until they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from fsad import FsadError
from fsad.atomic import atomic_path

# The generated table sits between these two lines; the prose around them is hand-written.
START = ("<!-- BEGIN config table: generated from src/fsad/config.schema.yaml by "
         "`make config-docs`; edit the schema, not this table -->")
END = "<!-- END config table -->"
# Placeholder for the user-chosen names of a mapping (datasets.NAME, sources.NAME, ...).
NAME = "NAME"


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    default: str
    meaning: str


def load_schema() -> dict:
    from fsad.config import SCHEMA_PATH

    return yaml.safe_load(SCHEMA_PATH.read_text())


def rows(schema: dict | None = None) -> list[Row]:
    """One row per key, in schema order, nested keys after their section."""
    schema = load_schema() if schema is None else schema
    out: list[Row] = []
    for name, sub in schema.get("properties", {}).items():
        out += _walk(sub, name, schema, required=name in schema.get("required", ()))
    return out


def _resolve(node: dict, root: dict) -> dict:
    """``node`` with a local ``$ref`` (#/$defs/x) merged in; its own keys win."""
    if "$ref" not in node:
        return node
    target: dict = root
    for part in node["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    rest = {k: v for k, v in node.items() if k != "$ref"}
    return {**_resolve(target, root), **rest}


def _walk(node: dict, key: str, root: dict, required: bool) -> Iterator[Row]:
    node = _resolve(node, root)
    yield Row(key, type_of(node, root), default_of(node, required), meaning_of(node))
    # A section that may also be null (validation) keeps its keys in a oneOf branch.
    branches = [_resolve(b, root) for c in ("oneOf", "anyOf") for b in node.get(c, ())]
    for part in (node, *branches):
        for name, sub in part.get("properties", {}).items():
            yield from _walk(sub, f"{key}.{name}", root, name in part.get("required", ()))
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _walk(extra, f"{key}.{NAME}", root, required=False)


def _value(value) -> str:
    """A value as it is written in YAML (flow style, one line)."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 16)
    return text.removesuffix("\n").removesuffix("\n...")


def _bounds(node: dict) -> str:
    signs = (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"),
             ("exclusiveMaximum", "<"))
    return ", ".join(f"{sign} {_value(node[k])}" for k, sign in signs if k in node)


def _at_least(n: int) -> str:
    return f"at least {n} item{'' if n == 1 else 's'}"


def type_of(node: dict, root: dict) -> str:
    """The accepted values in words: types, enums, alternatives, bounds."""
    node = _resolve(node, root)
    if "enum" in node:
        values = [f"`{_value(v)}`" for v in node["enum"]]
        return values[0] if len(values) == 1 else "one of " + ", ".join(values)
    for combinator in ("oneOf", "anyOf"):
        if combinator in node:
            return " or ".join(type_of(alt, root) for alt in node[combinator])
    kinds = node.get("type", [])
    return " or ".join(_kind(k, node, root) for k in (kinds if isinstance(kinds, list)
                                                        else [kinds])) or "any"


def _kind(kind: str, node: dict, root: dict) -> str:
    """One JSON-schema type of ``node`` in words, with the constraints that apply to it."""
    if kind == "array":
        items = _resolve(node.get("items", {}), root)
        word = ("list of any of " + ", ".join(f"`{_value(v)}`" for v in items["enum"])
                if "enum" in items else "list of " + type_of(items, root))
        extras = [_at_least(node["minItems"])] if "minItems" in node else []
        extras += ["no repeats"] if node.get("uniqueItems") else []
        return f"{word} ({', '.join(extras)})" if extras else word
    if kind == "object":
        names = node.get("propertyNames")
        if not (isinstance(node.get("additionalProperties"), dict) and names):
            return "mapping"
        pattern = _resolve(names, root).get("pattern")
        return f"mapping of {NAME} (matching `{pattern}`)" if pattern else f"mapping of {NAME}"
    if kind == "null":
        return "`null`"
    if kind in ("integer", "number"):
        bounds = _bounds(node)
        return f"{kind} {bounds}" if bounds else kind
    if kind == "string" and "pattern" in node:
        return f"string matching `{node['pattern']}`"
    return kind


def default_of(node: dict, required: bool) -> str:
    if required:
        return "required"
    if "default" not in node:
        return "—"
    if node["default"] == {} and "properties" in node:
        return "—"  # a section: each key below has its own default
    return f"`{_value(node['default'])}`"


def meaning_of(node: dict) -> str:
    return re.sub(r"\s+", " ", node.get("description", "")).strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(table: list[Row] | None = None) -> str:
    """The table as GitHub markdown, one row per key."""
    table = rows() if table is None else table
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    lines += [f"| `{r.key}` | {_cell(r.type)} | {_cell(r.default)} | {_cell(r.meaning)} |"
              for r in table]
    return "\n".join(lines) + "\n"


def with_table(text: str, table: str, source: str = "the document") -> str:
    """``text`` with everything between the START and END lines replaced by ``table``."""
    lines = text.splitlines(keepends=True)
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == START)
        end = next(i for i, line in enumerate(lines) if i > start and line.strip() == END)
    except StopIteration:
        raise FsadError(f"{source}: no generated-table markers; put the line {START} and "
                        f"below it the line {END} where the config table goes") from None
    return "".join([*lines[:start + 1], table, *lines[end:]])


def write_into(path: str | Path) -> bool:
    """Regenerate the table inside ``path``; True when the file changed."""
    path = Path(path)
    if not path.is_file():
        raise FsadError(f"{path}: not found; pass the markdown file that holds the config "
                        "table (config/README.md)")
    text = path.read_text()
    new = with_table(text, markdown(), str(path))
    if new == text:
        return False
    with atomic_path(path) as tmp:
        tmp.write_text(new)
    return True
