"""The Text tab in a real browser (headless Chromium) against the real app serving the embedded model."""

import itertools
import json
import time
import urllib.request

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

FIRST_OUTPUT_TIMEOUT_S = 120  # the first request of a fresh machine also loads the model
POLL_S = 0.05
SCREENSHOT = "/tmp/text_tab.png"


def output_of(page: Page) -> str:
    return page.locator("#text-output textarea").input_value()


def output_busy(page: Page) -> bool:
    """Whether the output still waits for or receives a generation (its status tracker is shown)."""
    return (
        "hide" not in (page.locator("#text-output [data-testid=status-tracker]").get_attribute("class") or "").split()
    )


def set_max_new_tokens(page: Page, value: int) -> None:
    page.get_by_text("More sampling settings").click()
    number = page.get_by_label("number input for Max new tokens")
    slider = page.get_by_label("range slider for Max new tokens")
    number.wait_for(state="visible")
    for _ in range(3):  # a value typed while the accordion is still opening is sometimes reset: type it again
        number.fill(str(value))
        number.press("Enter")
        try:
            expect(slider).to_have_value(str(value), timeout=2000)
            return
        except AssertionError:
            pass
    expect(slider).to_have_value(str(value))


def start_generation(page: Page, prompt: str) -> None:
    page.locator("#text-prompt textarea").fill(prompt)
    page.locator("#text-generate").click()


def watch_output(page: Page, until, timeout_s: float) -> list[str]:
    """The distinct values the output shows, polled every POLL_S, until until(values) is true."""
    values = [output_of(page)]
    deadline = time.monotonic() + timeout_s
    while not until(values):
        assert time.monotonic() < deadline, f"gave up after {timeout_s} s; the output showed {values!r}"
        time.sleep(POLL_S)
        value = output_of(page)
        if value != values[-1]:
            values.append(value)
    return values


def api_names(app) -> dict[int, str]:
    """fn_index -> api_name of every event the app's frontend can send."""
    with urllib.request.urlopen(app.url + "/config", timeout=10) as response:
        config = json.load(response)
    return {dependency["id"]: dependency.get("api_name") for dependency in config["dependencies"]}


def test_generate_streams_the_reply_into_the_output(page):
    set_max_new_tokens(page, 24)  # enough tokens to watch them arrive, few enough to stay quick on a busy CPU
    start_generation(page, "Tell me a short story about a cat.")

    values = watch_output(page, lambda values: values[-1] != "" and not output_busy(page), FIRST_OUTPUT_TIMEOUT_S)

    shown = [value for value in values if value]
    final, intermediate = shown[-1], shown[:-1]
    assert final.strip(), "the finished reply is empty"
    assert len(intermediate) >= 2, f"the reply did not stream in: the output went {values!r}"
    for earlier, later in itertools.pairwise(shown):
        assert later.startswith(earlier), f"the streamed text was rewritten, not extended: {earlier!r} -> {later!r}"


def test_temperature_redraws_the_chart_without_running_the_model_again(page, app):
    page.locator("#text-prompt textarea").fill("Tell me a short story about a cat.")
    page.locator("#text-explain").click()

    chart = page.locator("#text-chart img")
    chart.wait_for(timeout=FIRST_OUTPUT_TIMEOUT_S * 1000)
    first_chart = chart.get_attribute("src")
    assert first_chart.startswith("data:image/"), first_chart[:80]

    tokens = page.locator("#text-tokens .token")
    assert tokens.count() > 10
    texts = [text.strip() for text in tokens.all_inner_texts()]
    assert "<|im_start|>" in texts and "␣cat" in texts and "↵" in texts, texts

    names = api_names(app)
    sent: list[str] = []
    page.on(
        "request",
        lambda request: (
            sent.append(names.get(json.loads(request.post_data)["fn_index"])) if "/queue/join" in request.url else None
        ),
    )
    slider = page.locator("#text-temperature input[type=range]")
    slider.focus()
    slider.press("End")
    expect(page.locator("#text-temperature input[type=number]")).to_have_value("2")

    deadline = time.monotonic() + 30
    while chart.get_attribute("src") == first_chart:
        assert time.monotonic() < deadline, "the chart was not re-drawn after the temperature moved"
        time.sleep(POLL_S)
    assert sent, "the chart changed, but no event was sent for it"
    assert not {"generate_text", "next_token_distribution"} & set(sent), f"moving the slider ran the model: {sent}"
    assert tokens.count() > 10, "re-drawing lost the tokens strip"

    page.wait_for_timeout(300)  # let the new image settle before the picture for the humans
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_openai_backend_shows_a_password_box_for_the_api_key(page):
    api_key = page.get_by_label("API key")
    assert not api_key.is_visible()

    page.get_by_role("radio", name="openai").check()

    api_key.wait_for(state="visible")
    assert api_key.get_attribute("type") == "password"
    assert page.get_by_role("combobox", name="Model").input_value() != "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_stop_ends_a_running_generation(page):
    start_generation(page, "Write a long poem about the sea.")  # the default 200 new tokens: still running at Stop
    watch_output(page, lambda values: len({value for value in values if value}) >= 2, FIRST_OUTPUT_TIMEOUT_S)
    assert output_busy(page), "the generation finished before Stop could be clicked"

    page.locator("#text-stop").click()

    page.wait_for_timeout(1000)  # pieces already on their way may still land
    stopped = output_of(page)
    assert stopped, "Stop cleared the text generated so far"
    page.wait_for_timeout(3000)
    assert output_of(page) == stopped, "text kept arriving after Stop"


def reply_token_texts(page: Page, elem_id: str) -> list[str]:
    return [t for t in page.locator(f"#{elem_id} .token").all_inner_texts()]


def test_step_adds_one_token_at_a_time_with_its_candidates(page):
    page.locator("#text-prompt textarea").fill("Name a fruit.")
    page.get_by_role("tab", name="Step by step").click()
    strip = page.locator("#text-step-reply .token")

    for count in (1, 2, 3):
        page.locator("#text-step").click()
        expect(strip).to_have_count(count, timeout=FIRST_OUTPUT_TIMEOUT_S * 1000)
        expect(page.locator("#text-step-story")).to_contain_text(f"Token {count}:")
    assert page.locator("#text-step-chart img").get_attribute("src").startswith("data:image/")
    rows = page.locator("#text-step-table .virtual-row")
    assert rows.count() >= 10

    chosen = rows.nth(4).locator(".body-cell").first.inner_text().strip()
    rows.nth(4).locator(".body-cell").first.click()
    expect(strip).to_have_count(4)
    expect(page.locator("#text-step-story")).to_contain_text("you chose it")
    assert strip.nth(3).inner_text().strip() == chosen.strip()


def test_clicking_a_token_of_a_reply_shows_the_candidates_of_its_step(page):
    set_max_new_tokens(page, 12)
    start_generation(page, "Name a fruit.")
    strip = page.locator("#text-reply-tokens .token")
    expect(strip.first).to_be_visible(timeout=FIRST_OUTPUT_TIMEOUT_S * 1000)
    assert strip.count() >= 3
    assert "".join(strip.all_inner_texts()).replace(" ", "") in output_of(page).replace(" ", "") or strip.count() == 12

    strip.nth(2).click()

    expect(page.locator("#text-token-story")).to_contain_text("Token 3:")
    page.locator("#text-token-chart img").wait_for()
    page.get_by_text("Attention: what the model looked at while choosing that token").click()
    page.locator("#attention-show").click()
    expect(page.locator("#attention-strip .token").first).to_be_visible(timeout=60_000)
    assert page.locator("#attention-strip .token").count() > 20  # the prompt in its chat format, then two reply tokens
    page.locator("#text-continue").click()
    deadline = time.monotonic() + 60
    before = output_of(page)
    while output_busy(page) or output_of(page) == before:
        assert time.monotonic() < deadline, "continuing from the token changed nothing"
        time.sleep(POLL_S)
    page.screenshot(path="/tmp/text_tab_tokens.png", full_page=True)
