"""The Video tab in a real browser (headless Chromium) against the real app and our shipped models."""

import json

import pytest
from playwright.sync_api import expect
from test_text_tab import api_names

from playground import config

pytestmark = pytest.mark.browser

FIRST_VIDEO_TIMEOUT_MS = 180_000  # the first request of a fresh machine also loads the models
SCREENSHOT = "/tmp/video_tab.png"
GATE_SCREENSHOT = "/tmp/video_gate_maps.png"


def test_a_prompt_makes_a_video_that_plays_with_its_gate_plot_and_frames(page):
    if not (config.VIDEO_MODEL_DIR / "model.safetensors").is_file():
        pytest.fail("the shipped video model is missing from assets/models")
    page.get_by_role("tab", name="Video").click()
    page.locator("#video-prompt textarea").fill("a bouncing red apple")
    page.locator("#video-generate").click()
    player = page.locator("#video-player video")
    expect(player).to_have_count(1, timeout=FIRST_VIDEO_TIMEOUT_MS)
    assert player.evaluate("v => v.canPlayType('video/mp4; codecs=\"avc1.42E01E\"')") in ("probably", "maybe")
    # playing: decoded, its clock moving, no error
    page.wait_for_function(
        "() => { const v = document.querySelector('#video-player video');"
        " return v && v.readyState >= 2 && v.currentTime > 0.2 && !v.error; }",
        timeout=30_000,
    )
    assert player.evaluate("v => [v.videoWidth, v.videoHeight]") == [config.VIDEO_SIZE * config.VIDEO_FILE_SCALE] * 2
    expect(page.locator("#video-settings")).to_contain_text('"motion": "bounce"')
    expect(page.locator("#video-gates img, #video-gates svg, #video-gates canvas").first).to_be_visible()
    expect(page.locator("#video-strip img")).to_be_visible()
    expect(page.locator("#video-gif")).to_contain_text(".gif")
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_the_image_tabs_last_picture_starts_a_video(page):
    page.get_by_role("tab", name="Image").click()
    page.locator("#image-prompt textarea").fill("a blue heart")
    page.locator("#image-generate").click()
    expect(page.locator("#image-gallery img")).to_have_count(4, timeout=FIRST_VIDEO_TIMEOUT_MS)
    page.get_by_role("tab", name="Video").click()
    page.get_by_text("Start from a picture instead").click()
    page.locator("#video-from-image-tab").click()
    expect(page.locator("#video-start img")).to_be_visible()
    page.locator("#video-motion input").fill("spin")
    page.locator("#video-motion input").press("Enter")
    page.locator("#video-generate").click()
    expect(page.locator("#video-settings")).to_contain_text('"start": "image"', timeout=60_000)
    expect(page.locator("#video-settings")).to_contain_text('"motion": "spin"')
    expect(page.locator("#video-player video")).to_have_count(1)


def test_the_gate_slider_shows_the_maps_of_each_made_frame_without_making_the_video_again(page, app):
    page.get_by_role("tab", name="Video").click()
    page.locator("#video-prompt textarea").fill("a red apple")
    frames = page.locator("#video-frames input[type=number]")
    frames.fill("6")
    frames.press("Enter")
    page.locator("#video-generate").click()
    expect(page.locator("#video-settings")).to_contain_text('"num_frames": 6', timeout=FIRST_VIDEO_TIMEOUT_MS)
    maps = page.locator("#video-gate-maps img")
    expect(maps).to_be_visible()
    slider = page.locator("#video-gate-frame input[type=range]")
    expect(slider).to_have_attribute("max", "5")  # the made frames: the start frame has no gates
    expect(page.locator("#video-gate-frame input[type=number]")).to_have_value("1")
    first = maps.get_attribute("src")

    names = api_names(app)
    sent: list[str | None] = []
    page.on("request", lambda request: sent.append(names.get(json.loads(request.post_data)["fn_index"]))
            if "/queue/join" in request.url else None)
    slider.focus()
    slider.press("End")
    expect(page.locator("#video-gate-frame input[type=number]")).to_have_value("5")
    expect(maps).not_to_have_attribute("src", first)
    assert sent and "generate_video" not in sent, f"moving the slider ran the model: {sent}"
    page.wait_for_timeout(300)  # let the new picture settle before the picture for the humans
    page.locator("#video-gate-maps").screenshot(path=GATE_SCREENSHOT)
