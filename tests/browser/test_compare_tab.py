"""The Compare tab in a real browser (headless Chromium) against the real app and our shipped models."""

import re

import pytest
from playwright.sync_api import Page, expect

from playground import compare
from playground.image import metadata

pytestmark = pytest.mark.browser

RESULTS_TIMEOUT_MS = 180_000  # the first request of a fresh machine also loads the models
SCREENSHOT = "/tmp/compare_tab.png"


def open_tab(page: Page) -> None:
    page.get_by_role("tab", name="Compare").click()
    expect(page.locator("#compare-prompt-0 textarea")).to_be_visible()


def test_two_prompts_run_side_by_side_with_the_judges_details_honoured_a_chart_and_export(page: Page, tmp_path):
    open_tab(page)
    page.locator("#compare-prompt-0 textarea").fill("heart")
    page.locator("#compare-prompt-1 textarea").fill("a blue heart")
    page.locator("#compare-run").click()
    for column in (0, 1):
        expect(page.locator(f"#compare-gallery-{column} img")).to_have_count(4, timeout=RESULTS_TIMEOUT_MS)
    expect(page.locator("#compare-scores-0")).to_contain_text("Specificity 1")
    expect(page.locator("#compare-scores-1")).to_contain_text("Specificity 2 — colour: blue · subject: heart")
    for column in (0, 1):  # every picture checked against the reference, "a blue heart": the heart and its colour
        scores = page.locator(f"#compare-scores-{column}")
        expect(scores).to_contain_text(re.compile(r"Details honoured \d\.\d\d of 2 \(\d+%\)"))
        expect(scores).to_contain_text(re.compile(r"(✓ |✗ )?heart [0-4]/4 · (✓ |✗ )?blue heart [0-4]/4"))
        expect(scores).to_contain_text(re.compile(r"Diversity [01]\.\d{3} \(what the judge sees\)"))
    expect(page.locator("#compare-scores-1")).to_contain_text("(the reference)")
    chart = page.locator("#compare-chart img")
    expect(chart).to_be_visible()
    assert chart.get_attribute("src").startswith("data:image/")
    page.screenshot(path=SCREENSHOT, full_page=True)

    with page.expect_download() as download:
        page.locator("#compare-sheet a").first.click()
    sheet = tmp_path / "sheet.png"
    download.value.save_as(sheet)
    assert metadata.read_settings(sheet)["prompts"] == ["heart", "a blue heart"]


def test_make_it_detailed_fills_the_next_column_and_highlights_the_added_words(page: Page):
    open_tab(page)
    page.locator("#compare-prompt-0 textarea").fill("a face")
    page.locator("#compare-expand-0").click()
    detailed = page.locator("#compare-prompt-1 textarea")
    expect(detailed).not_to_have_value("", timeout=RESULTS_TIMEOUT_MS)
    marked = [(word.strip(), kind) for word, kind in compare.word_diff("a face", detailed.input_value()) if kind]
    assert any(kind == "added" for _, kind in marked)
    tokens = page.locator("#compare-diff-1 .token.highlighted")
    expect(tokens.first).to_be_visible()
    assert [t.strip() for t in tokens.locator(".text").all_inner_texts()] == [word for word, _ in marked]
    added = tokens.nth([kind for _, kind in marked].index("added"))
    assert added.evaluate("node => getComputedStyle(node).backgroundColor") == "rgba(187, 247, 208, 0.5)"  # green
    expect(detailed).to_be_editable()
