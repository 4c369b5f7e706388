"""The Text tab's embeddings view in a real browser (headless Chromium) against the real app serving the embedded model."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

FIRST_ANSWER_TIMEOUT_MS = 120_000  # the first request of a fresh machine also loads the model
SCREENSHOT = "/tmp/embeddings_view.png"


def test_a_typed_word_fills_the_neighbour_table_and_the_map_is_drawn(page):
    page.get_by_role("tab", name="Embeddings").click()
    word = page.locator("#embeddings-word textarea")
    word.fill("king")
    page.locator("#embeddings-nearest").click()

    table = page.locator("#embeddings-table")
    expect(table).to_contain_text("queen", timeout=FIRST_ANSWER_TIMEOUT_MS)
    expect(page.locator("#embeddings-read-as textarea")).to_have_value(
        "'king' is read as 1 token, ' king': its vector is that token's row."
    )

    page.locator("#embeddings-draw").click()
    chart = page.locator("#embeddings-map img")
    chart.wait_for(timeout=FIRST_ANSWER_TIMEOUT_MS)
    assert chart.get_attribute("src").startswith("data:image/")
    expect(page.locator("#embeddings-caption textarea")).to_have_value(
        re.compile(r"^The two axes keep \d+% of how these words differ")
    )
    page.locator("#embeddings-map").scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOT, full_page=True)
