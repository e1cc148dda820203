"""English and Simplified Chinese: the language comes from the browser, a switcher changes it (with or
without JavaScript), and dates, numbers and byte units follow it."""

import re

import pytest
from playwright.sync_api import expect

from dashboard.accounts.roles import Role
from tests.sim_helpers import storage_named

from .conftest import PASSWORD, login, make_user, screenshot

pytestmark = pytest.mark.browser


def test_a_browser_asking_for_chinese_gets_the_whole_interface_in_chinese(browser_env, page_factory):
    sim, url = browser_env["sim"], browser_env["url"]
    storage = storage_named(sim, "bs-sh-archive")
    page = page_factory(locale="zh-CN")
    user = make_user(Role.ADMIN)

    page.goto(url + "/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_title("登录 · ImageStore 镜像服务器控制台")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("wrong")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("请输入一个正确的")  # Django's own messages too
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("ImageStore 镜像服务器")
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    expect(page.locator("#storage-count")).to_contain_text("12 个镜像服务器")
    expect(page.get_by_role("columnheader", name="连接状态")).to_be_visible()
    row = page.locator("#storage-table tbody tr", has_text="bs-sh-archive")
    expect(row).to_contain_text("已用 178.0 TiB，共 200.0 TiB（89.0%）")  # units kept, number localised
    expect(row).to_contain_text("已连接")
    expect(row).to_contain_text("2024年")  # dates in the Chinese format
    page.get_by_label("连接状态").select_option(label="已断开")
    expect(page.locator("#storage-count")).to_contain_text("2 个镜像服务器")
    screenshot(page, "list-zh-hans")

    page.goto(f"{url}/storages/{storage['uuid']}/")
    card = page.locator(f"#storage-card-{storage['uuid']}")
    expect(card.get_by_role("heading", name="详情")).to_be_visible()
    expect(card.locator("dd[title]", has_text="200.0 TiB")).to_have_attribute("title", "219,902,325,555,200 字节")
    expect(card).to_contain_text(re.compile(r"创建时间\s*2024年1月\d+日 \d\d:\d\d"))
    expect(card.locator("[data-age]")).to_have_text("刚刚更新")

    card.get_by_role("link", name="编辑").click()
    form = page.locator(f"#storage-edit-{storage['uuid']}")
    form.get_by_label("SSH 端口").fill("0")
    form.get_by_role("button", name="保存").click()
    expect(form.locator(".field-error")).to_contain_text("SSH 端口必须在 1 到 65535 之间。")  # the rule, translated
    expect(page.locator("#live-region")).to_have_text("请更正以下错误。")
    form.get_by_label("SSH 端口").fill("2222")
    form.get_by_label("简介").fill("冷归档")
    form.get_by_role("button", name="保存").click()
    expect(card.locator(".alert--success")).to_contain_text("已保存")
    screenshot(page, "card-after-save-zh-hans")

    page.goto(url + "/audit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("审计日志")
    expect(page.locator("#audit-results tbody tr").first).to_contain_text("成功")


def test_the_language_switcher_works_without_javascript_and_the_choice_sticks(browser_env, page_factory):
    page = page_factory(java_script=False, locale="en-US")
    login(page, browser_env["url"], Role.ADMIN)
    page.get_by_label("Per page").select_option("10")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ImageStore backup storages")

    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("ImageStore 镜像服务器")
    expect(page).to_have_url(re.compile(r"page_size=10"))  # back on the same page, filters kept
    page.goto(browser_env["url"] + "/audit/")
    expect(page.get_by_role("heading", level=1)).to_have_text("审计日志")

    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")


def test_an_english_browser_gets_english_with_grouped_byte_counts(browser_env, page):
    storage = storage_named(browser_env["sim"], "bs-sh-archive")
    login(page, browser_env["url"], Role.ADMIN)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{browser_env['url']}/storages/{storage['uuid']}/")
    card = page.locator(f"#storage-card-{storage['uuid']}")
    expect(card.locator("dd[title]", has_text="200.0 TiB")).to_have_attribute("title", "219,902,325,555,200 bytes")
    # One format per language, with minutes and an unambiguous zone (issue 13): never "Jan. 21, 2024, 2 a.m."
    expect(card).to_contain_text(re.compile(r"Created\s*2024-01-\d\d \d\d:\d\d UTC"))


def test_times_are_shown_in_the_browsers_time_zone(browser_env, page_factory):
    storage = storage_named(browser_env["sim"], "bs-sh-archive")  # created 2024-01-20 18:36 UTC
    page = page_factory(timezone_id="Asia/Shanghai", locale="zh-CN")
    login(page, browser_env["url"], Role.ADMIN)  # app.js stores the zone in a cookie on the first page

    page.goto(f"{browser_env['url']}/storages/{storage['uuid']}/")

    card = page.locator(f"#storage-card-{storage['uuid']}")
    expect(card).to_contain_text("时间按 Asia/Shanghai 时区显示。")
    expect(card).to_contain_text(re.compile(r"创建时间\s*2024年1月21日 02:36 UTC\+08:00"))


def test_the_cards_age_line_counts_up_in_the_readers_language(browser_env, page_factory):
    storage = storage_named(browser_env["sim"], "bs-sh-archive")
    page = page_factory(locale="zh-CN")
    page.clock.install()
    login(page, browser_env["url"], Role.VIEWER)
    page.goto(f"{browser_env['url']}/storages/{storage['uuid']}/")
    age = page.locator(f"#storage-card-{storage['uuid']} [data-age]")
    expect(age).to_have_text("刚刚更新")

    page.clock.fast_forward("00:20")  # less than the 30 s poll

    expect(age).to_have_text(re.compile(r"^更新于\s*2\d\s*秒钟?前$"))
