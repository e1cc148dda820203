"""The audit log page and its exports: auditors and admins only (accounts.view_audit)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from dashboard.accounts.roles import VIEW_AUDIT

from . import exports, selectors
from .forms import AuditFilterForm

PAGE_SIZE = 50


def _require_audit_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(VIEW_AUDIT):
        raise PermissionDenied


def _filtered(request: HttpRequest):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, selectors.events_matching(filters)


@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    _require_audit_permission(request)
    form, events = _filtered(request)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    if form.is_bound and not form.is_valid():
        page = Paginator(events.none(), PAGE_SIZE).get_page(1)  # say what's wrong rather than ignore it
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "export_query": query.urlencode()}
    # htmx replaces only the results; a boosted or history-restore request needs the whole page.
    partial = request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request
    response = render(request, "audit/log.html#results" if partial else "audit/log.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _export(request: HttpRequest, chunks, content_type: str, extension: str) -> HttpResponse:
    _require_audit_permission(request)
    form, events = _filtered(request)
    if form.is_bound and not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(chunks(events), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{extension}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, exports.csv_lines, "text/csv; charset=utf-8", "csv")


@require_GET
def export_json(request: HttpRequest) -> HttpResponse:
    return _export(request, exports.json_chunks, "application/json", "json")
