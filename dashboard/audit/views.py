"""The audit log page and its exports: auditors and admins only (accounts.view_audit)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from dashboard.accounts.roles import VIEW_AUDIT
from dashboard.partials import wants_partial

from . import exports, selectors
from .forms import AuditFilterForm
from .models import AuditEvent

PAGE_SIZE = 50


def _require_audit_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(VIEW_AUDIT):
        raise PermissionDenied


def _filter_form(request: HttpRequest) -> tuple[AuditFilterForm, bool]:
    """The filter form and whether it can be applied (no filters at all counts as valid)."""
    form = AuditFilterForm(request.GET or None)
    return form, not form.is_bound or form.is_valid()


def _events(form: AuditFilterForm):
    return selectors.events_matching(form.cleaned_data if form.is_bound else {})


@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    _require_audit_permission(request)
    form, valid = _filter_form(request)
    if valid:
        # One entry per submission (attempt and outcome together): selectors.entries_page.
        listing = selectors.entries_page(form.cleaned_data if form.is_bound else {}, request.GET.get("page"), PAGE_SIZE)
        entries, page = listing.entries, listing.page
    else:
        # Say what's wrong rather than ignore it: an empty page, without counting or reading the trail.
        entries, page = [], Paginator(AuditEvent.objects.none(), PAGE_SIZE).get_page(1)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "entries": entries, "page": page, "export_query": query.urlencode()}
    # htmx replaces only the results.
    response = render(request, "audit/log.html#results" if wants_partial(request) else "audit/log.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _export(request: HttpRequest, chunks, content_type: str, extension: str) -> HttpResponseBase:
    _require_audit_permission(request)
    form, valid = _filter_form(request)
    if not valid:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(chunks(_events(form)), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{extension}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def export_csv(request: HttpRequest) -> HttpResponseBase:
    return _export(request, exports.csv_lines, "text/csv; charset=utf-8", "csv")


@require_GET
def export_json(request: HttpRequest) -> HttpResponseBase:
    return _export(request, exports.json_chunks, "application/json", "json")
