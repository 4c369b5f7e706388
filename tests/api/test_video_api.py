"""The Video tab's endpoint over real HTTP, with our shipped video and image models."""

import re

import pytest
from conftest import call_raw, require
from gradio_client import Client, handle_file
from PIL import Image

from playground import config
from playground.video.render import probe, read_video_settings

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def client(app) -> Client:
    require((config.VIDEO_MODEL_DIR / "model.safetensors").is_file(), "the shipped video model is missing")
    return Client(app.url, verbose=False)


def make(client: Client, **kwargs) -> tuple:
    settings = {"prompt": "a red apple", "image": None, "motion": "slide_right", "num_frames": 8, "fps": 8, "seed": 3}
    return client.predict(api_name="/generate_video", **(settings | kwargs))


def test_generate_video_returns_an_h264_mp4_with_the_frames_and_settings(client):
    player, frames, gif, strip, _, settings = make(client, num_frames=10, fps=5)
    assert probe(player) == ("h264", 10, 5.0)
    assert read_video_settings(player) == settings
    assert settings["motion"] == "slide_right" and settings["start"] == "prompt" and settings["seed"] == 3
    assert len(frames) == 10 and gif.endswith(".gif")
    with Image.open(strip) as picture:
        assert picture.size == (8 * config.VIDEO_SIZE, 2 * config.VIDEO_SIZE)


def test_a_video_starts_from_an_uploaded_picture(client, tmp_path):
    path = tmp_path / "start.png"
    picture = Image.new("RGB", (100, 100), (30, 90, 200))
    picture.paste((250, 250, 0), (30, 30, 70, 70))
    picture.save(path)
    _, frames, _, _, _, settings = make(client, prompt="", image=handle_file(str(path)), motion="auto")
    assert settings["start"] == "image" and settings["motion"] == "bounce"
    with Image.open(frames[0]["image"]) as first:
        assert first.convert("RGB").getpixel((32, 32)) == (250, 250, 0)  # the picture, in the middle
        assert first.convert("RGB").getpixel((2, 2)) == (30, 90, 200)  # the frame takes the picture's edge colour


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_frames": 65}, "num_frames must be between 4 and 64, got 65"),
        ({"fps": 0}, "fps must be between 2 and 30, got 0"),
        ({"motion": "wiggle"}, "motion must be one of 'auto', 'bounce'"),
        ({"prompt": ""}, "give a start for the video: a prompt or an image"),
        ({"seed": -5}, "seed must be between 0 and 4294967295, got -5"),
    ],
)
def test_bad_input_gets_a_message_naming_the_parameter(client, kwargs, message):
    with pytest.raises(Exception, match=re.escape(message)):
        make(client, **kwargs)


def test_a_file_that_is_not_a_picture_or_is_too_large_is_refused(client, tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(Exception, match=re.escape("file is not a picture")):
        make(client, image=handle_file(str(text)))
    huge = tmp_path / "huge.png"
    Image.new("1", (5000, 5000)).save(huge)  # a few kB on disk, 25 megapixels once decoded
    with pytest.raises(Exception, match=re.escape("picture is too large: 5000x5000 pixels")):
        make(client, image=handle_file(str(huge)))


def test_nan_and_infinity_sent_over_raw_http_are_refused_and_the_server_keeps_serving(app, client):
    for value in ("NaN", "Infinity"):
        inputs = f'["a red apple", null, "bounce", 8, {value}, 0, "diffusion"]'
        events = call_raw(app, "generate_video", f'{{"data": {inputs}}}')
        assert "event: error" in events and "fps must be a finite number between 2 and 30" in events
    assert len(make(client, num_frames=4)[1]) == 4
