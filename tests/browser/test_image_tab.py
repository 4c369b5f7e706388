"""The Image tab in a real browser (headless Chromium) against the real app and our shipped image models."""

import math
import time

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from playground import config
from playground.image import ImageSettings, diffusion, metadata, planner
from playground.image.world import COLOUR_RGB
from playground.ui.image import EXAMPLES

pytestmark = pytest.mark.browser

FIRST_PICTURES_TIMEOUT_MS = 180_000  # the first request of a fresh machine also loads the models
SCREENSHOT = "/tmp/image_tab.png"


def gallery_sources(page: Page) -> list[str]:
    return page.locator("#image-gallery img").evaluate_all("images => images.map(image => image.src)")


def generate(page: Page, prompt: str) -> None:
    page.get_by_role("tab", name="Image").click()
    page.locator("#image-prompt textarea").fill(prompt)
    page.locator("#image-generate").click()
    expect(page.locator("#image-gallery img")).to_have_count(4, timeout=FIRST_PICTURES_TIMEOUT_MS)


def wait_until(condition, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"gave up after {timeout_s} s waiting until {what}"
        time.sleep(0.1)


def set_number(page: Page, label: str, value: float) -> None:
    number = page.get_by_label(f"number input for {label}")
    number.fill(str(value))
    number.press("Enter")


def test_generate_then_sharpen_then_download_a_png_that_restores_its_settings(page, tmp_path):
    if not (config.DIFFUSION_MODEL_DIR / "model_index.json").is_file():
        pytest.fail("the shipped diffusion model is missing from assets/models")
    generate(page, "a red apple")
    timeline = page.locator("#image-timeline-step")
    expect(timeline).to_be_visible()
    expect(page.locator("#image-timeline img")).to_be_visible()
    final = page.locator("#image-timeline img").get_attribute("src")
    set_number(page, "Denoising timeline: scrub through the steps", 0)
    steps = ImageSettings.num_inference_steps
    first_kept = math.ceil(steps / diffusion.TIMELINE_FRAMES)
    expect(page.locator("#image-timeline")).to_contain_text(f"after step {first_kept} of {steps}", timeout=30_000)
    wait_until(lambda: page.locator("#image-timeline img").get_attribute("src") != final,
               "the timeline shows an early step")
    before = gallery_sources(page)

    set_number(page, "Sharpness", 2.5)
    expect(page.locator("#image-settings")).to_contain_text('"sharpness": 2.5', timeout=30_000)
    wait_until(lambda: gallery_sources(page) != before, "the gallery shows the sharpened pictures")
    page.screenshot(path=SCREENSHOT, full_page=True)

    page.locator("#image-gallery img").first.click()
    with page.expect_download() as download:
        page.locator("#image-gallery").get_by_role("button", name="Download").first.click()
    path = tmp_path / "picture.png"
    download.value.save_as(path)
    settings = metadata.read_settings(path)
    assert settings["prompt"] == "a red apple" and settings["seed"] == 0
    assert settings["backend"] == "diffusion" and settings["postprocess"]["sharpness"] == 2.5

    page.locator("#image-prompt textarea").fill("something else")
    page.get_by_text("PNG info: drop a picture").click()
    page.locator("#image-png-info input[type=file]").set_input_files(str(path))
    expect(page.locator("#image-prompt textarea")).to_have_value("a red apple", timeout=30_000)
    expect(page.get_by_label("number input for Sharpness")).to_have_value("2.5")


def test_each_picture_shows_which_details_it_honours_and_unknown_words_get_a_note(page):
    if not (config.JUDGE_MODEL_DIR / "model.safetensors").is_file():
        pytest.fail("the shipped judge is missing from assets/models")
    generate(page, "a skyscraper next to a small blue cat")
    checks = page.locator("#image-checks")
    expect(checks).to_contain_text("'skyscraper' is not in this model's vocabulary", timeout=30_000)
    pictures = checks.locator("li")
    expect(pictures).to_have_count(4)
    for index in range(4):
        line = pictures.nth(index).inner_text()
        assert f"(seed {index})" in line
        assert line.count("✓") + line.count("✗") == 3, line  # the cat, its colour, its size
        assert "cat" in line and "blue cat" in line and "small cat" in line

    page.get_by_role("button", name="What this model knows").click()
    vocabulary = page.locator("#image-vocabulary")
    expect(vocabulary.locator("img")).to_be_visible()
    expect(vocabulary).to_contain_text('"black and white style"')
    page.screenshot(path="/tmp/image_tab_checks.png", full_page=True)


def test_a_prompt_of_two_objects_shows_the_layout_it_was_drawn_in_above_the_checks(page):
    prompt = "a blue heart and a red star"
    generate(page, prompt)
    checks = page.locator("#image-checks")
    for region in planner.plan(prompt):
        expect(checks).to_contain_text(region.prompt, timeout=30_000)
    expect(checks.locator("li")).to_have_count(4)
    line = checks.locator("li").first.inner_text()
    assert line.count("✓") + line.count("✗") == 4, line  # each object and its colour


def test_a_dropped_picture_is_judged_against_the_prompt(page, tmp_path):
    if not (config.JUDGE_MODEL_DIR / "model.safetensors").is_file():
        pytest.fail("the shipped judge is missing from assets/models")
    path = tmp_path / "blue.png"
    Image.new("RGB", (64, 64), COLOUR_RGB["blue"]).save(path)
    page.get_by_role("tab", name="Image").click()
    page.locator("#image-prompt textarea").fill("a cat on a blue background")
    page.get_by_role("button", name="Judge a picture").click()
    page.locator("#image-judge-picture input[type=file]").set_input_files(str(path))
    summary = page.locator("#image-judge-summary")
    expect(summary).to_contain_text("✓ blue background", timeout=30_000)
    expect(summary).to_contain_text("✗ cat")
    expect(page.get_by_label("Details honoured")).to_have_value("1")


def test_a_guidance_example_sets_the_prompt_seed_and_guidance(page):
    prompt, seed, scale = EXAMPLES["guidance"][-1]
    page.get_by_role("tab", name="Image").click()
    page.locator("#image-guidance-examples").get_by_text(f"{scale:g}", exact=True).click()
    expect(page.locator("#image-prompt textarea")).to_have_value(prompt)
    expect(page.get_by_label("number input for Guidance scale")).to_have_value(f"{scale:g}")
    expect(page.locator("#image-seed input")).to_have_value(str(seed))
