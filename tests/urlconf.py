"""Every route of the URLconf, as a name and a concrete path (tests of the URL matrix and of headers)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver, reverse


def routes() -> dict[str, tuple[str, ...]]:
    """Every named route, namespaced ("storages:edit"), in URLconf order, with its arguments' names."""
    found: dict[str, tuple[str, ...]] = {}

    def walk(patterns, namespace: str, arguments: tuple[str, ...]) -> None:
        for entry in patterns:
            here = arguments + tuple(entry.pattern.converters)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, f"{namespace}{entry.namespace}:" if entry.namespace else namespace, here)
            elif isinstance(entry, URLPattern):
                assert entry.name, f"unnamed route {entry.pattern!s}: name it so the tests can list it"
                found[namespace + entry.name] = here

    walk(get_resolver().url_patterns, "", ())
    return found


def path_for(name: str, uuid: str) -> str:
    """The route's path, with ``uuid`` for every argument (the only kind of argument our routes take)."""
    arguments = routes()[name]
    return reverse(name, kwargs={a: uuid for a in arguments} or None)
