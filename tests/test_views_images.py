"""The detail page's "Images on this storage" section (issue 12, what fills a storage): every role, paged
with links that work without JavaScript, sortable by size, counted and summed; empty and error states."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import pytest
from django.utils import translation

from dashboard.accounts.roles import Role
from dashboard.formats.moments import moment
from dashboard.storages import presenters, selectors
from dashboard.storages.templatetags.storage_tags import ZSTACK_LABELS, binary_size, exact_bytes, tone
from tests.storage_helpers import HTMX, storage_named, zstack_requests

pytestmark = pytest.mark.django_db


def images_on(sim, uuid: str) -> list[dict]:
    return [i for i in sim.images() if uuid in [r["backupStorageUuid"] for r in i["backupStorageRefs"]]]


def image_queries(sim) -> list[list[tuple[str, str]]]:
    return [parse_qsl(r["query"]) for r in zstack_requests(sim, "GET", "/zstack/v1/images")]


def page_and_sum_queries(sim) -> tuple[list, list]:
    """The page's queries and the sum's (it reads the sizes alone), told apart: they are sent at once, so
    their order is not fixed."""
    queries = image_queries(sim)
    sums = [q for q in queries if ("fields", "uuid,actualSize") in q]
    return [q for q in queries if q not in sums], sums


def row_names(html: str) -> list[str]:
    section = html[html.index('id="storage-images"') :]
    return re.findall(r'<td data-label="Name">([^<]+)<span class="uuid', section)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.VIEWER, Role.AUDITOR])
def test_every_role_sees_the_largest_images_first_with_the_count_and_the_total_size(
    login_as, zstack_settings, uuid, role
):
    zstack_settings.clear_requests()
    html = login_as(role).get(f"/storages/{uuid}/").content.decode()
    assert "Images on this storage" in html and "23 images" in html and "showing 1–10" in html and " stored" in html
    [first], [total] = page_and_sum_queries(zstack_settings)
    assert first == [
        ("q", f"backupStorageRefs.backupStorageUuid={uuid}"),
        ("limit", "10"),
        ("start", "0"),
        ("sort", "-actualSize"),
        ("replyWithCount", "true"),
    ]
    assert ("limit", "1000") in total  # the sum reads the sizes alone, many at a time
    expected = sorted(images_on(zstack_settings, uuid), key=lambda i: i.get("actualSize", -1), reverse=True)
    assert row_names(html) == [i["name"] for i in expected[:10]]
    total_bytes = sum(i.get("actualSize", 0) for i in expected)
    assert f"{total_bytes:,} bytes" in html  # the exact total, in the title of the summed size
    assert 'aria-sort="descending"' in html


def test_the_pager_is_a_plain_link_to_the_detail_page_and_htmx_gets_the_section_alone(login_as, zstack_settings, uuid):
    client = login_as(Role.VIEWER)
    html = client.get(f"/storages/{uuid}/").content.decode()
    link = f"/storages/{uuid}/images/?page=2&amp;sort=-actualSize"
    assert f'href="{link}#storage-images"' in html and f'hx-get="{link}"' in html
    page = client.get(f"/storages/{uuid}/images/?page=3&sort=-actualSize")  # without JavaScript
    page_html = page.content.decode()
    assert page.status_code == 200 and "<html" in page_html and f'id="storage-card-{uuid}"' in page_html
    assert "showing 21–23" in page_html and "Page 3 of 3" in page_html
    fragment = client.get(f"/storages/{uuid}/images/?page=2&sort=-actualSize", **HTMX)
    fragment_html = fragment.content.decode()
    assert fragment_html.lstrip().startswith('<section id="storage-images"')
    assert "<html" not in fragment_html and "storage-card-" not in fragment_html
    assert "showing 11–20" in fragment_html and "HX-Request" in fragment["Vary"]


def test_sorting_by_virtual_size_ascending_is_sent_to_zstack_and_offered_back_descending(
    login_as, zstack_settings, uuid
):
    client = login_as(Role.VIEWER)
    zstack_settings.clear_requests()
    html = client.get(f"/storages/{uuid}/images/?sort=size", **HTMX).content.decode()
    [first], _sum = page_and_sum_queries(zstack_settings)
    assert ("sort", "+size") in first
    expected = sorted(images_on(zstack_settings, uuid), key=lambda i: i["size"])
    sizes = [i["size"] for i in expected]
    assert [i["size"] for i in expected if i["name"] in row_names(html)] == sizes[: len(row_names(html))]
    assert f'hx-get="/storages/{uuid}/images/?sort=-size"' in html and 'aria-sort="ascending"' in html


@pytest.mark.parametrize("query", ["page=0", "page=x", "sort=name", "sort=-uuid", "page=99999999999"])
def test_invalid_parameters_fall_back_to_the_first_page_largest_first(login_as, zstack_settings, uuid, query):
    zstack_settings.clear_requests()
    response = login_as(Role.VIEWER).get(f"/storages/{uuid}/images/?{query}", **HTMX)
    assert response.status_code == 200
    [first], _sum = page_and_sum_queries(zstack_settings)
    assert ("start", "0") in first and ("sort", "-actualSize") in first


def test_a_page_past_the_end_offers_the_first_page(login_as, zstack_settings, uuid):
    html = login_as(Role.VIEWER).get(f"/storages/{uuid}/images/?page=9", **HTMX).content.decode()
    assert "There are no images on this page." in html and "Go to the first page" in html


def test_a_storage_whose_images_fit_one_page_is_read_in_one_page_and_one_sum(login_as, zstack_settings):
    uuid = storage_named(zstack_settings, "bs-prod-bj-02")["uuid"]
    zstack_settings.clear_requests()
    html = login_as(Role.VIEWER).get(f"/storages/{uuid}/images/", **HTMX).content.decode()
    pages, sums = page_and_sum_queries(zstack_settings)
    assert len(pages) == 1 and len(sums) == 1  # one query each, however few or many the images
    total_bytes = sum(i.get("actualSize", 0) for i in images_on(zstack_settings, uuid))
    assert "6 images" in html and "Page 1 of" not in html and f"{total_bytes:,} bytes" in html


def test_a_storage_without_images_says_so(login_as, zstack_settings):
    uuid = storage_named(zstack_settings, "bs-ci-cache")["uuid"]
    html = login_as(Role.VIEWER).get(f"/storages/{uuid}/").content.decode()
    assert "No image is stored on this backup storage." in html


def test_when_zstack_fails_the_images_section_shows_the_error_and_the_rest_of_the_page_stays(
    login_as, zstack_settings, uuid
):
    zstack_settings.set_faults(
        fail_next=[{"status": 503, "code": "SYS.1006", "details": "images are busy", "match": "GET /zstack/v1/images"}]
    )
    response = login_as(Role.VIEWER).get(f"/storages/{uuid}/")
    html = response.content.decode()
    assert response.status_code == 200 and f'id="storage-card-{uuid}"' in html
    section = html[html.index('id="storage-images"') :]
    assert "The images on this storage could not be loaded" in section
    assert "SYS.1006" in section and "images are busy" in section and "Try again" in section


def test_the_images_section_of_an_unknown_storage_is_404(login_as, zstack_settings):
    assert login_as(Role.VIEWER).get(f"/storages/{'0' * 32}/images/").status_code == 404


def test_images_need_a_role(login_as, uuid):
    assert login_as(None).get(f"/storages/{uuid}/images/", **HTMX).status_code == 403


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_image_row_shows_what_the_template_filters_would(zstack_settings, uuid, language):
    images = selectors.storage_images(uuid=uuid).images
    with translation.override(language):
        for image, row in zip(images, presenters.image_rows(images), strict=True):
            assert (row.size_text, row.size_title) == (binary_size(image.size), exact_bytes(image.size))
            assert (row.actual_text, row.actual_title) == (
                binary_size(image.actual_size),
                exact_bytes(image.actual_size),
            )
            assert (row.status_label, row.status_tone) == (
                str(ZSTACK_LABELS.get(image.status, image.status)),
                tone(image.status),
            )
            created = f'<time datetime="{row.created_iso}">{row.created_text}</time>' if row.created_iso else ""
            assert created == (moment(image.create_date) if image.create_date else "")
