"""The Simplified Chinese catalogue is complete and compiled: every marked string in the code and the
templates has a translation, placeholders survive translation, and the committed .mo (what Django
reads at run time, so no gettext tools are needed) matches the .po.

After adding or changing a UI string: `DJANGO_DEBUG=1 .venv/bin/python manage.py makemessages -l zh_Hans
--ignore=.venv --ignore=node_modules`, translate in locale/zh_Hans/LC_MESSAGES/django.po, then
`compilemessages --ignore=.venv`.
"""

from __future__ import annotations

import ast
import gettext
import json
import re
from pathlib import Path

import pytest
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
GETTEXT_NAMES = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
PLACEHOLDER = re.compile(r"%\([A-Za-z_]+\)[sd]|\{[a-z_]+\}")


def parse_po(path: Path) -> dict[tuple[str | None, str], dict]:
    """(msgctxt, msgid) -> {"plural", "msgstr" (list), "fuzzy"}; the header and obsolete entries left out."""
    entries = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, list[str]] = {}
        current = None
        fuzzy = False
        for line in block.strip().splitlines():
            if line.startswith("#"):
                fuzzy = fuzzy or (line.startswith("#,") and "fuzzy" in line)
                continue
            match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line)
            if match:
                current = match.group(1)
                fields[current] = [match.group(2)]
            elif line.startswith('"') and current:
                fields[current].append(line)
        if "msgid" not in fields:
            continue
        text = {name: "".join(json.loads(part) for part in parts) for name, parts in fields.items()}
        if not text["msgid"]:
            continue
        entries[(text.get("msgctxt"), text["msgid"])] = {
            "plural": text.get("msgid_plural"),
            "msgstr": [text[name] for name in sorted(text) if name.startswith("msgstr")],
            "fuzzy": fuzzy,
        }
    return entries


def python_messages(path: Path) -> set[tuple[str | None, str]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in GETTEXT_NAMES or not node.args or not all(isinstance(a, ast.Constant) for a in node.args[:2]):
            continue
        if name.startswith(("pgettext", "npgettext")):
            found.add((node.args[0].value, node.args[1].value))
        elif isinstance(node.args[0].value, str):
            found.add((None, node.args[0].value))
    return found


# templatize() turns {% translate %} and friends into gettext(u'...') calls, and _("...") stays as written.
_STRING = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_TEMPLATE_CALL = re.compile(rf"(?<![A-Za-z0-9])(n?p?gettext|_)\(((?:\s*{_STRING}\s*,?)+)")
_LITERAL = re.compile(_STRING)


def template_messages(path: Path) -> set[tuple[str | None, str]]:
    found = set()
    for function, arguments in _TEMPLATE_CALL.findall(templatize(path.read_text(encoding="utf-8"), origin=str(path))):
        literals = [ast.literal_eval(literal) for literal in _LITERAL.findall(arguments)]
        if function.startswith(("pgettext", "npgettext")):
            found.add((literals[0], literals[1]))
        else:
            found.add((None, literals[0]))
    return found


def marked_messages() -> set[tuple[str | None, str]]:
    found = set()
    for path in (ROOT / "dashboard").rglob("*.py"):
        found |= python_messages(path)
    for path in (ROOT / "templates").rglob("*.html"):
        found |= template_messages(path)
    return found


@pytest.fixture(scope="module")
def catalogue():
    return parse_po(LOCALE / "django.po")


def test_the_extractor_finds_strings_in_code_and_templates():
    messages = marked_messages()
    assert (None, "Skip to main content") in messages  # base.html, {% translate %}
    assert (None, "%(counter)s backup storage") in messages  # list.html, {% blocktranslate count %}
    assert ("byte unit", "TiB") in messages  # storage_tags.py, pgettext_lazy
    assert (None, "Enter a valid host name or IP address.") in messages  # forms.py, gettext_lazy as _


def test_every_marked_string_in_the_code_and_templates_is_in_the_chinese_catalogue(catalogue):
    missing = sorted(m[1] for m in marked_messages() - set(catalogue))
    assert not missing, "Not in locale/zh_Hans/LC_MESSAGES/django.po (run makemessages, translate):\n" + "\n".join(
        missing
    )


def test_every_chinese_entry_is_translated_and_none_is_fuzzy(catalogue):
    untranslated = [msgid for (_, msgid), entry in catalogue.items() if not all(entry["msgstr"])]
    fuzzy = [msgid for (_, msgid), entry in catalogue.items() if entry["fuzzy"]]
    assert not untranslated, untranslated
    assert not fuzzy, fuzzy


def test_translations_keep_every_placeholder(catalogue):
    wrong = []
    for (_, msgid), entry in catalogue.items():
        expected = sorted(PLACEHOLDER.findall(msgid))
        for msgstr in entry["msgstr"]:
            if sorted(PLACEHOLDER.findall(msgstr)) != expected:
                wrong.append((msgid, msgstr))
    assert not wrong, wrong


def test_the_committed_mo_file_matches_the_po_file(catalogue):
    with open(LOCALE / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for (context, msgid), entry in catalogue.items():
        if entry["plural"]:
            got = [
                compiled.npgettext(context, msgid, entry["plural"], 1)
                if context
                else compiled.ngettext(msgid, entry["plural"], 1)
            ]
        else:
            got = [compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)]
        if got != entry["msgstr"][:1]:
            stale.append(msgid)
    assert not stale, "django.mo is older than django.po: run compilemessages. Differs for: " + repr(stale[:10])


def test_the_server_error_page_is_in_the_readers_language():
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("zh-hans"):
        html = render_to_string("500.html")
    assert '<html lang="zh-hans">' in html
    assert "出错了" in html
