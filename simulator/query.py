"""The query language of every ``Query*`` GET API: conditions, paging, count, sort, fields (§6).

Records are matched with MySQL's semantics, because ZStack turns conditions into SQL through ZQL:
a null field fails every comparison except ``is null``, and strings compare case-insensitively
(ZStack's tables use MySQL's default utf8 collation; inferred, not confirmed in docs/zstack-protocol.md).
List fields (``attachedZoneUuids``) and the tag pseudo-fields are joins: a positive operator
matches when any element matches, a negative one when none does (§6.2 ``createTagSQL``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from simulator.wire import ApiError, RestError, format_date, parse_date

Record = dict[str, Any]
Filter = Callable[[list[Record]], list[Record]]
TagsOf = Callable[[str, str], list[str]]  # (resource uuid, "System" | "User") -> tag texts


@dataclass(frozen=True)
class Resource:
    inventory_class: str
    fields: dict[str, str]  # field name -> kind: str, int, bool, date, list, refs (a list of records)
    # Dotted conditions on joined inventories (``backupStorageRefs.backupStorageUuid``): name -> the
    # values of one record, matched like a list field (any element for a positive operator).
    joins: dict[str, Callable[[Record], list[Any]]] = field(default_factory=dict)


_BACKUP_STORAGE_FIELDS = {
    "uuid": "str",
    "name": "str",
    "url": "str",
    "description": "str",
    "totalCapacity": "int",
    "availableCapacity": "int",
    "type": "str",
    "state": "str",
    "status": "str",
    "createDate": "date",
    "lastOpDate": "date",
    "attachedZoneUuids": "list",
}
ZONE = Resource(
    "org.zstack.header.zone.ZoneInventory",
    {
        "uuid": "str",
        "name": "str",
        "description": "str",
        "state": "str",
        "type": "str",
        "isDefault": "bool",
        "createDate": "date",
        "lastOpDate": "date",
    },
)
BACKUP_STORAGE = Resource("org.zstack.header.storage.backup.BackupStorageInventory", _BACKUP_STORAGE_FIELDS)
IMAGE_STORE = Resource(
    "org.zstack.storage.backup.imagestore.ImageStoreBackupStorageInventory",
    {**_BACKUP_STORAGE_FIELDS, "hostname": "str", "username": "str", "sshPort": "int"},
)
_TAG_FIELDS = {
    "uuid": "str",
    "resourceUuid": "str",
    "resourceType": "str",
    "tag": "str",
    "type": "str",
    "createDate": "date",
    "lastOpDate": "date",
}
SYSTEM_TAG = Resource("org.zstack.header.tag.SystemTagInventory", {**_TAG_FIELDS, "inherent": "bool"})
USER_TAG = Resource(
    "org.zstack.header.tag.UserTagInventory", {**_TAG_FIELDS, "tagPatternUuid": "str", "tagPattern": "str"}
)

_IMAGE_REF_FIELDS = ("imageUuid", "backupStorageUuid", "installPath", "status", "exportUrl")


def _ref_values(name: str) -> Callable[[Record], list[Any]]:
    return lambda record: [ref[name] for ref in record.get("backupStorageRefs") or () if ref.get(name) is not None]


# QueryImage (docs/zstack-protocol.md §4.8; header/.../image/ImageInventory.java): backupStorageRefs is a
# @Queryable join on imageUuid, and the alias backupStorage.uuid reaches the same column.
IMAGE = Resource(
    "org.zstack.header.image.ImageInventory",
    {
        "uuid": "str",
        "name": "str",
        "description": "str",
        "state": "str",
        "status": "str",
        "size": "int",
        "actualSize": "int",
        "md5Sum": "str",
        "url": "str",
        "mediaType": "str",
        "guestOsType": "str",
        "type": "str",
        "platform": "str",
        "architecture": "str",
        "format": "str",
        "system": "bool",
        "virtio": "bool",
        "createDate": "date",
        "lastOpDate": "date",
        "backupStorageRefs": "refs",
    },
    joins={
        **{f"backupStorageRefs.{name}": _ref_values(name) for name in _IMAGE_REF_FIELDS},
        "backupStorage.uuid": _ref_values("backupStorageUuid"),
    },
)

# Checked in this order, by "contains": the first one found anywhere wins (§6.2, QUERY_OP_MAPPING).
OPERATORS = ("!=", ">=", "<=", "!?=", "!~=", "~=", "?=", "=", ">", "<", "is null", "not null")
_NEGATED = {"!=": "=", "!?=": "?=", "!~=": "~="}
_TAG_PSEUDO_FIELDS = {"__systemTag__": "System", "__userTag__": "User"}
_INTEGER = re.compile(r"^-?\d+$")
_PLAIN_CONTAINS = re.compile(r"^%[^%_]*%$")


@dataclass
class QueryParams:
    conditions: list[str]
    limit: int = 1000  # APIQueryMessage's default (§6.1)
    start: int = 0
    count: bool = False
    reply_with_count: bool = False
    sort: str | None = None
    fields: list[str] | None = None


def parse_params(pairs: Iterable[tuple[str, str]]) -> QueryParams:
    """Read the query parameters the REST layer knows; every other one is silently ignored (§6.1)."""
    params = QueryParams(conditions=[])
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name == "q":
            if value not in params.conditions:  # held in a Set on the server
                params.conditions.append(value)
        else:
            seen.setdefault(name, value)  # getParameter(): the first occurrence wins
    for name in ("limit", "start"):
        if name in seen:
            if not _INTEGER.match(seen[name]):
                raise RestError(400, f"Invalid query parameter. '{name}' must be an integer")
            setattr(params, name, int(seen[name]))
    params.count = seen.get("count", "").lower() == "true"
    params.reply_with_count = seen.get("replyWithCount", "").lower() == "true"
    params.sort = seen.get("sort")
    if "fields" in seen:
        params.fields = [f.strip() for f in seen["fields"].split(",") if f.strip()]
    return params


def split_condition(text: str) -> tuple[str, str, str]:
    for op in OPERATORS:
        if op in text:
            field, _, value = text.partition(op)
            return field.strip(), op, value  # the value is deliberately not trimmed
    raise RestError(
        400,
        f"Invalid query parameter. The '{text}' in the parameter[q] doesn't contain "
        f"any query operator. Valid query operators are [{', '.join(OPERATORS)}]",
    )


def unknown_field(resource: Resource, name: str) -> ApiError:
    # ZQL rejects it; the exception becomes an internal error (§6.2, inferred SYS.1000).
    return ApiError("SYS.1000", f"inventory class[{resource.inventory_class}] has no field[{name}]")


def compile_condition(resource: Resource, text: str, tz: tzinfo, tags_of: TagsOf) -> Filter:
    field, op, value = split_condition(text)
    return compile_parts(resource, field, op, value, tz, tags_of)


def compile_parts(resource: Resource, field: str, op: str, value: str, tz: tzinfo, tags_of: TagsOf) -> Filter:
    """A filter for one condition. Each returns a comprehension over all rows, with as few
    function calls per row as possible: a page query over 10,000 storages must stay fast."""
    if field in _TAG_PSEUDO_FIELDS:
        tag_type = _TAG_PSEUDO_FIELDS[field]
        kind, get = "list", (lambda record: tags_of(record["uuid"], tag_type))
    elif field in resource.joins:
        kind, get = "list", resource.joins[field]
    elif field in resource.fields and resource.fields[field] != "refs":
        kind, get = resource.fields[field], (lambda record: record.get(field) or [])
    else:
        raise unknown_field(resource, field)
    if op in ("is null", "not null"):
        want_null = op == "is null"
        if kind == "list":
            return lambda rows: [r for r in rows if (len(get(r)) == 0) == want_null]
        return lambda rows: [r for r in rows if (r.get(field) is None) == want_null]
    negated = op in _NEGATED
    test = _test(_NEGATED.get(op, op), value, "str" if kind == "list" else kind, field, tz)
    if kind == "list":
        return lambda rows: [r for r in rows if any(map(test, get(r))) != negated]
    # SQL: NULL fails every comparison, negated ones too.
    if negated:
        return lambda rows: [r for r in rows if (v := r.get(field)) is not None and not test(v)]
    return lambda rows: [r for r in rows if (v := r.get(field)) is not None and test(v)]


def _test(op: str, value: str, kind: str, field: str, tz: tzinfo) -> Callable[[Any], bool]:
    """The positive test of one non-null value; written flat because it runs once per record."""
    if op == "~=":
        if kind == "str" and _PLAIN_CONTAINS.match(value):  # the search box's "%text%", fast
            needle = value[1:-1].casefold()
            return lambda current: needle in current.casefold()
        match = _like_regex(value).fullmatch
        if kind == "str":
            return lambda current: match(current) is not None
        return lambda current: match(str(current)) is not None
    if op == "?=":
        wanted = {_literal(item, kind, field, tz) for item in value.split(",")}
        if kind == "str":
            return lambda current: current.casefold() in wanted
        return lambda current: current in wanted
    literal = _literal(value, kind, field, tz)
    compare = _COMPARISONS[op]
    if kind == "str":
        return lambda current: compare(current.casefold(), literal)
    return lambda current: compare(current, literal)


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


def _like_regex(pattern: str) -> re.Pattern[str]:
    """SQL LIKE: ``%`` any run, ``_`` one character; backslashes are escaped by ZStack, so literal."""
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _normalise(current: Any, kind: str) -> Any:
    return current.casefold() if kind == "str" else current


def _literal(value: str, kind: str, field: str, tz: tzinfo) -> Any:
    if kind == "str":
        return value.casefold()
    if kind == "bool":
        if value.lower() not in ("true", "false"):
            raise ApiError("SYS.1000", f"cannot convert [{value}] to a boolean for field[{field}]")
        return value.lower() == "true"
    if kind == "date":
        parsed = parse_date(value, tz)
        if parsed is None:
            raise ApiError("SYS.1000", f"cannot convert [{value}] to a date for field[{field}]")
        return parsed
    try:
        number = Decimal(value.strip())
        if not number.is_finite():
            raise InvalidOperation
        # Whole numbers as int: int-to-int comparisons are what makes a 10,000-row filter fast.
        return int(number) if number == number.to_integral_value() else number
    except InvalidOperation:
        raise ApiError("SYS.1000", f"cannot convert [{value}] to a number for field[{field}]") from None


def sort_records(resource: Resource, records: list[Record], spec: str) -> list[Record]:
    """``+field``/``field`` ascending, ``-field`` descending; MySQL puts NULLs first ascending."""
    spec = spec.strip()  # a raw "+" arrives as a space (§6.1)
    descending = spec.startswith("-")
    name = spec.lstrip("+-").strip()
    kind = resource.fields.get(name)
    if kind is None or kind in ("list", "refs"):
        raise unknown_field(resource, name)

    def key(record: Record) -> tuple:
        current = record.get(name)
        return (0, 0) if current is None else (1, _normalise(current, kind))

    return sorted(records, key=key, reverse=descending)  # stable, also when reversed


def to_inventory(resource: Resource, record: Record, tz: tzinfo, fields: list[str] | None = None) -> dict[str, Any]:
    """Only declared fields, nulls omitted, dates in ZStack's format (§1, §8)."""
    inventory: dict[str, Any] = {}
    for name, kind in resource.fields.items():
        current = record.get(name)
        if current is None or (fields is not None and name not in fields):
            continue
        if kind == "date":
            current = format_date(current, tz)
        elif kind == "list":
            current = list(current)
        elif kind == "refs":
            current = [_ref_inventory(ref, tz) for ref in current]
        inventory[name] = current
    return inventory


def _ref_inventory(ref: Record, tz: tzinfo) -> dict[str, Any]:
    """A joined record (a backup-storage ref): nulls omitted, dates in ZStack's format."""
    return {
        name: format_date(value, tz) if name in ("createDate", "lastOpDate") else value
        for name, value in ref.items()
        if value is not None
    }


def run_query(
    resource: Resource, records: list[Record], params: QueryParams, *, tz: tzinfo, tags_of: TagsOf
) -> dict[str, Any]:
    filters = [compile_condition(resource, text, tz, tags_of) for text in params.conditions]
    for name in params.fields or ():
        if name not in resource.fields:
            raise unknown_field(resource, name)
    matched = records
    for narrow in filters:  # all conditions are ANDed (§6.1)
        matched = narrow(matched)
    if params.count:
        return {"total": len(matched), "schema": {}}
    if params.sort:
        matched = sort_records(resource, matched, params.sort)
    start = max(params.start, 0)
    page = matched[start : start + max(params.limit, 0)]
    body: dict[str, Any] = {"inventories": [to_inventory(resource, r, tz, params.fields) for r in page]}
    if params.reply_with_count:
        body["total"] = len(matched)
    body["schema"] = query_schema(resource, len(page))
    return body


def query_schema(resource: Resource, size: int) -> dict[str, str]:
    """Always present on query replies, keys in reverse order like JsonSchemaBuilder (§6.3, §6.4)."""
    return {f"inventories[{i}]": resource.inventory_class for i in reversed(range(size))}
