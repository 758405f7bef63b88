"""Fit a model's raw JSON answer to the bounds its JSON schema states, before validation.

Servers that constrain decoding with a grammar (llama.cpp, vLLM) enforce types and enums but
rarely `minimum`/`maximum`, and models spell enum values their own way ("Close-up"). What can
be fitted by rule is fitted here and each change is said, so a pitch of 120 becomes 99 rather
than a rejected answer; everything else is left for pydantic to reject.
"""

from __future__ import annotations

import re
from typing import Any

Schema = dict[str, Any]


def fit(data: Any, schema: Schema) -> tuple[Any, list[str]]:
    """Return `data` fitted to `schema` (a pydantic JSON schema) and the changes made."""
    changes: list[str] = []
    fitted = _fit(data, schema, schema.get("$defs", {}), "", changes)
    return fitted, changes


def _resolve(schema: Schema, defs: Schema) -> Schema:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**defs.get(ref.removeprefix("#/$defs/"), {}), **schema}
    return schema


def _fit(value: Any, schema: Schema, defs: Schema, where: str, changes: list[str]) -> Any:
    schema = _resolve(schema, defs)
    branches = schema.get("anyOf")
    if isinstance(branches, list):
        if value is None:
            return value
        fitting = [b for b in branches if _resolve(b, defs).get("type") != "null"]
        return _fit(value, fitting[0], defs, where, changes) if len(fitting) == 1 else value
    if "enum" in schema:
        return _enum(value, schema["enum"], where, changes)
    kind = schema.get("type")
    if kind == "object" and isinstance(value, dict):
        return _object(value, schema, defs, where, changes)
    if kind == "array" and isinstance(value, list):
        items = schema.get("items", {})
        return [_fit(v, items, defs, f"{where}[{i}]", changes) for i, v in enumerate(value)]
    if kind in ("integer", "number") and isinstance(value, int | float):
        return _bounded(value, schema, where, changes)
    return value


def _object(
    value: dict[str, Any], schema: Schema, defs: Schema, where: str, changes: list[str]
) -> dict[str, Any]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    extra = schema.get("additionalProperties")
    out = {}
    for key, item in value.items():
        path = f"{where}.{key}" if where else key
        if key in properties:
            if item is None and key not in required and not _nullable(properties[key], defs):
                changes.append(f"{path}: null -> the default")
                continue
            out[key] = _fit(item, properties[key], defs, path, changes)
        elif isinstance(extra, dict):
            out[key] = _fit(item, extra, defs, path, changes)
        else:
            out[key] = item
    return out


def _nullable(schema: Schema, defs: Schema) -> bool:
    schema = _resolve(schema, defs)
    branches = schema.get("anyOf", [schema])
    return any(_resolve(b, defs).get("type") == "null" for b in branches)


def _spelling(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).casefold()


def _enum(value: Any, allowed: list[Any], where: str, changes: list[str]) -> Any:
    if value in allowed or not isinstance(value, str):
        return value
    same = [a for a in allowed if isinstance(a, str) and _spelling(a) == _spelling(value)]
    if len(same) == 1:
        changes.append(f"{where}: {value!r} -> {same[0]!r}")
        return same[0]
    return value


def _bounded(value: float, schema: Schema, where: str, changes: list[str]) -> float:
    low, high = schema.get("minimum"), schema.get("maximum")
    fitted = value
    if low is not None and fitted < low:
        fitted = low
    if high is not None and fitted > high:
        fitted = high
    if fitted != value:
        changes.append(f"{where}: {value!r} -> {fitted!r} (allowed {low} to {high})")
    return fitted
