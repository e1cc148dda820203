"""Who is acting, and from where: what the service layer needs of a request, and the audit trail records."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from .roles import Role, role_of


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int | None
    username: str
    role: Role | None
    ip: str | None
    user_agent: str

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        user = request.user
        return cls(
            user_id=user.pk if user.is_authenticated else None,
            username=user.get_username() if user.is_authenticated else "",
            role=role_of(user),
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        )

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """For management commands and tasks that change storage without a web request."""
        return cls(user_id=None, username=name, role=None, ip=None, user_agent="")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. X-Forwarded-For is client-controlled: believe only the entries our own
    proxies appended (settings.TRUSTED_PROXIES of them, nearest last), never what came before."""
    hops = settings.TRUSTED_PROXIES
    if hops:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops][:64]
    return request.META.get("REMOTE_ADDR") or None
