"""One way to write a moment on screen (issue 13): the `when` filter and `moment` tag, in both languages."""

import datetime as dt
import zoneinfo

import pytest
from django.template import engines
from django.utils import timezone, translation

from dashboard.formats.moments import absolute, iso_utc, when, zone_text

AT = dt.datetime(2026, 12, 1, 0, 57, 55, tzinfo=dt.UTC)


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


@pytest.mark.parametrize(
    ("zone", "language", "expected"),
    [
        ("Asia/Shanghai", "en", "2026-12-01 08:57 UTC+08:00"),
        ("Asia/Shanghai", "zh-hans", "2026年12月1日 08:57 UTC+08:00"),
        ("America/Chicago", "en", "2026-11-30 18:57 UTC-06:00"),  # the other "CST"
        ("Asia/Kolkata", "en", "2026-12-01 06:27 UTC+05:30"),
        ("UTC", "en", "2026-12-01 00:57 UTC"),
        ("UTC", "zh-hans", "2026年12月1日 00:57 UTC"),
    ],
)
def test_the_absolute_time_has_minutes_and_an_unambiguous_zone_in_each_language(zone, language, expected):
    with timezone.override(zoneinfo.ZoneInfo(zone)), translation.override(language):
        assert absolute(AT) == expected
        assert render("{{ at|when }}", at=AT) == expected


def test_a_full_hour_keeps_its_minutes_and_no_zone_abbreviation_appears():
    five = dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC)
    with timezone.override(zoneinfo.ZoneInfo("UTC")), translation.override("en"):
        assert when(five) == "2026-12-01 05:00 UTC"
    with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")), translation.override("en"):
        text = when(five)
    assert "CST" not in text and "a.m." not in text and text.endswith("13:00 UTC+08:00")


def test_offsets_of_half_and_negative_hours():
    assert zone_text(AT.astimezone(zoneinfo.ZoneInfo("America/St_Johns"))) == "UTC-03:30"
    assert zone_text(AT.astimezone(zoneinfo.ZoneInfo("Asia/Kathmandu"))) == "UTC+05:45"


def test_the_moment_tag_writes_a_time_element_with_utc_for_machines():
    with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")), translation.override("en"):
        html = render("{% moment at %}", at=AT)
    assert html == '<time datetime="2026-12-01T00:57:55Z">2026-12-01 08:57 UTC+08:00</time>'


def test_relative_times_are_natural_in_each_language_with_the_absolute_time_as_a_title():
    earlier = timezone.now() - dt.timedelta(minutes=5)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")), translation.override("en"):
        english = render('{% moment at "ago" %}', at=earlier)
        title = absolute(earlier)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")), translation.override("zh-hans"):
        chinese = render('{{ at|when:"ago" }}', at=earlier)
    assert "5\xa0minutes ago</time>" in english and f'title="{title}"' in english and "UTC+08:00" in title
    assert f'datetime="{iso_utc(earlier)}"' in english
    assert chinese.startswith("5") and "分钟" in chinese


def test_dates_alone_naive_values_and_empty_values():
    with translation.override("en"):
        assert when(dt.date(2026, 12, 1), "date") == "2026-12-01"
        assert when(dt.datetime(2026, 12, 1, 0, 57), "iso") == "2026-12-01T00:57:00Z"  # naive is UTC
    with translation.override("zh-hans"):
        assert when(AT, "date") == "2026年12月1日"
    assert when(None) == "" and when("") == "" and when("not a date") == "not a date"


def test_no_template_formats_a_moment_another_way():
    """Every template goes through `when`/`moment`: no date filter, time filter, naturaltime or timesince."""
    from pathlib import Path

    offenders = []
    for path in Path(__file__).resolve().parent.parent.joinpath("templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for needle in ("|date", "|time", "naturaltime", "timesince", "localtime", "naturalday"):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    assert offenders == []
