"""Query strings for ZStack's ``Query*`` GET APIs (docs/zstack-protocol.md §6.1, §6.2).

Built by hand rather than with ``urlencode`` so every value is percent-encoded the same way: ``%``
(LIKE wildcard) → ``%25``, ``+`` (ascending sort) → ``%2B``, space → ``%20`` (a raw ``+`` would
decode to a space, §6.1). The operator characters stay readable; servlets decode them either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

_SAFE = "=?,!~:"  # operators and ?= list commas (§6.2): legal in a query component


def encode(pairs: Iterable[tuple[str, str]]) -> str:
    """``[("q", "name~=%a%")]`` → ``q=name~=%25a%25``; empty string for no pairs."""
    return "&".join(f"{quote(key, safe='')}={quote(value, safe=_SAFE)}" for key, value in pairs)


def query_string(
    conditions: Iterable[str] = (),
    *,
    limit: int | None = None,
    start: int | None = None,
    sort: str | None = None,
    with_count: bool = False,
    fields: Iterable[str] = (),
) -> str:
    """One ``q=`` per condition (ANDed by ZStack); paging and sort only when asked for."""
    if isinstance(conditions, str):  # a bare string would become one condition per character
        raise TypeError("conditions must be a list of strings, not one string")
    pairs: list[tuple[str, str]] = [("q", condition) for condition in conditions]
    if limit is not None:
        pairs.append(("limit", str(int(limit))))
    if start is not None:
        pairs.append(("start", str(int(start))))
    if sort:
        pairs.append(("sort", sort))
    if with_count:
        pairs.append(("replyWithCount", "true"))
    if fields:  # only the first fields= is read: one comma-joined value (§6.1)
        pairs.append(("fields", ",".join(fields)))
    return encode(pairs)


def in_list(field: str, values: Iterable[str]) -> str:
    """``uuid?=a,b,c``: ZStack splits ``?=`` values on commas (§6.2), so no value may hold one."""
    values = list(values)
    if any("," in value for value in values):
        raise ValueError(f"a ?= list value cannot contain a comma: {field}")
    return f"{field}?={','.join(values)}"
