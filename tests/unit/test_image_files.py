"""Finished pictures: post-processing, and the PNG files that carry their settings (save, read back, prune)."""

import io
import math
import os
import time

import numpy as np
import pytest
from PIL import Image

from playground import config
from playground.image.metadata import DIGITAL_SOURCE_TYPE, prune_outputs, read_settings, save_png
from playground.image.postprocess import PostProcessing, postprocess

SETTINGS = {"prompt": "a red apple", "backend": "diffusion", "model": "emoji-diffusion", "seed": 7,
            "num_inference_steps": 20, "guidance_scale": 3.0, "scheduler": "dpm++", "negative_prompt": ""}


def picture(size: int = 16) -> Image.Image:
    """A colourful RGB picture: a gradient in each channel, so every enhancement changes it."""
    x = np.arange(size, dtype=np.uint8) * (255 // size)
    pixels = np.stack([np.broadcast_to(x, (size, size)), np.broadcast_to(x[:, None], (size, size)),
                       np.full((size, size), 200, np.uint8)], axis=-1)
    return Image.fromarray(np.ascontiguousarray(pixels))


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    folder = tmp_path / "outputs"
    monkeypatch.setattr(config, "OUTPUT_DIR", folder)
    return folder


# Post-processing


def test_identity_settings_leave_the_pixels_unchanged():
    image = picture()
    assert PostProcessing().is_identity
    assert np.array_equal(np.asarray(postprocess(image, PostProcessing())), np.asarray(image))


def test_saturation_zero_gives_a_grey_picture():
    pixels = np.asarray(postprocess(picture(), PostProcessing(saturation=0.0))).astype(int)
    assert np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 1], pixels[..., 2])
    assert pixels.std() > 0  # grey, not flat


def test_brightness_zero_gives_a_black_picture():
    assert not np.asarray(postprocess(picture(), PostProcessing(brightness=0.0))).any()


@pytest.mark.parametrize("factor", [2, 4, 2.0])
def test_upscale_multiplies_the_size(factor):
    result = postprocess(picture(16), PostProcessing(upscale=factor))
    assert result.size == (16 * int(factor), 16 * int(factor))


@pytest.mark.parametrize("name", ["brightness", "contrast", "saturation", "sharpness"])
@pytest.mark.parametrize("value", [-0.5, 3.5, math.nan])
def test_enhancement_factor_outside_0_to_3_is_refused_naming_the_parameter(name, value):
    with pytest.raises(ValueError, match=name) as error:
        PostProcessing(**{name: value})
    if not math.isnan(value):
        assert "between 0 and 3" in str(error.value)


def test_upscale_3_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match=r"upscale must be one of 1, 2, 4, got 3"):
        PostProcessing(upscale=3)


# PNG metadata


def test_saved_png_goes_to_the_output_folder_and_reads_back_its_settings(outputs):
    settings = SETTINGS | {"prompt": "un cœur rouge ❤️ 赤いりんご", "negative_prompt": "blur"}
    path = save_png(picture(), settings)
    assert path.parent == outputs and path.suffix == ".png"
    assert read_settings(path) == settings
    assert read_settings(str(path)) == settings
    assert read_settings(path.read_bytes()) == settings


def test_saved_png_is_marked_as_ai_generated_in_a_text_chunk_and_in_xmp(outputs):
    path = save_png(picture(), SETTINGS)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.text["ai_generated"] == "true"
        xmp = image.text["XML:com.adobe.xmp"]
    assert "trainedAlgorithmicMedia" in xmp and DIGITAL_SOURCE_TYPE in xmp


def test_read_settings_refuses_a_text_file_named_png(tmp_path):
    path = tmp_path / "fake.png"
    path.write_text("not a picture at all")
    with pytest.raises(ValueError, match="not a picture"):
        read_settings(path)


def test_read_settings_refuses_a_jpeg():
    data = io.BytesIO()
    picture().save(data, format="JPEG")
    with pytest.raises(ValueError, match="must be a PNG .* got a JPEG"):
        read_settings(data.getvalue())


def test_read_settings_refuses_a_png_without_settings():
    data = io.BytesIO()
    picture().save(data, format="PNG")
    with pytest.raises(ValueError, match="carries no settings"):
        read_settings(data.getvalue())


def test_read_settings_refuses_a_file_over_the_byte_limit(outputs, monkeypatch):
    path = save_png(picture(), SETTINGS)
    monkeypatch.setattr(config, "MAX_UPLOAD_BYTES", 100)
    for data in (path, path.read_bytes()):
        with pytest.raises(ValueError, match=r"file is too large: \d+ bytes, the limit is 100"):
            read_settings(data)


def test_read_settings_refuses_a_picture_over_the_pixel_limit(outputs, monkeypatch):
    path = save_png(picture(16), SETTINGS)
    monkeypatch.setattr(config, "MAX_UPLOAD_PIXELS", 15 * 15)
    with pytest.raises(ValueError, match=r"picture is too large: 16x16 pixels, the limit is 225"):
        read_settings(path)


def test_prune_removes_files_older_than_the_age_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "OUTPUT_MAX_AGE_S", 60.0)
    monkeypatch.setattr(config, "OUTPUT_MAX_FILES", 100)
    old, new = tmp_path / "old.png", tmp_path / "new.png"
    old.write_bytes(b"o")
    new.write_bytes(b"n")
    os.utime(old, (time.time() - 120, time.time() - 120))
    prune_outputs(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.png"]


def test_prune_keeps_only_the_newest_files_beyond_the_count_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "OUTPUT_MAX_AGE_S", 3600.0)
    monkeypatch.setattr(config, "OUTPUT_MAX_FILES", 3)
    now = time.time()
    for i in range(6):  # file0 is the newest, file5 the oldest
        path = tmp_path / f"file{i}.png"
        path.write_bytes(b"x")
        os.utime(path, (now - 10 * i, now - 10 * i))
    prune_outputs(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file0.png", "file1.png", "file2.png"]


def test_saving_prunes_the_output_folder_first(outputs, monkeypatch):
    monkeypatch.setattr(config, "OUTPUT_MAX_AGE_S", 60.0)
    outputs.mkdir()
    stale = outputs / "stale.png"
    stale.write_bytes(b"x")
    os.utime(stale, (time.time() - 120, time.time() - 120))
    path = save_png(picture(), SETTINGS)
    assert list(outputs.iterdir()) == [path]
