"""Video settings and files: limits with clear messages, start pictures, and MP4/GIF files that carry their settings."""

import math
import re

import av
import numpy as np
import pytest
from PIL import Image

from playground import config
from playground.image.pictures import BACKGROUND
from playground.video import CROP_BELOW_SHARE, OBJECT_SHARE, VideoSettings, drawing_square, generate_video, start_frame
from playground.video.render import frame_strip, probe, read_video_settings, write_gif, write_mp4


@pytest.fixture(autouse=True)
def output_dir(tmp_path, monkeypatch):
    folder = tmp_path / "outputs"
    monkeypatch.setattr(config, "OUTPUT_DIR", folder)
    return folder


def frames(count: int) -> list[Image.Image]:
    return [Image.new("RGB", (64, 64), (10 * n, 128, 255 - 10 * n)) for n in range(count)]


def test_mp4_is_h264_with_the_requested_frames_and_fps_and_carries_its_settings():
    path = write_mp4(frames(13), 9, {"prompt": "a red apple", "seed": 4})
    assert probe(path) == ("h264", 13, 9.0)
    assert read_video_settings(path) == {"prompt": "a red apple", "seed": 4}
    with av.open(str(path)) as container:
        assert "trainedAlgorithmicMedia" in container.metadata["description"]
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (64 * config.VIDEO_FILE_SCALE,) * 2
        first = next(container.decode(stream)).to_ndarray(format="rgb24")
    assert np.abs(first[5, 5].astype(int) - (0, 128, 255)).max() < 8  # the colours survive H.264


def test_gif_loops_the_frames_and_says_it_is_ai_generated(tmp_path):
    path = write_gif(frames(5), 10, {"motion": "spin"}, tmp_path / "clip.gif")
    with Image.open(path) as gif:
        assert gif.n_frames == 5 and gif.info["duration"] == 100 and gif.info["loop"] == 0
        assert b"AI-generated" in gif.info["comment"] and b'"motion": "spin"' in gif.info["comment"]


def test_a_video_without_settings_is_refused(tmp_path):
    path = tmp_path / "plain.mp4"
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=4)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        for picture in frames(2):
            container.mux(stream.encode(av.VideoFrame.from_image(picture.resize((16, 16)))))
        container.mux(stream.encode())
    with pytest.raises(ValueError, match="carries no settings"):
        read_video_settings(path)


def test_frame_strip_wraps_frames_eight_to_a_row():
    strip = frame_strip(frames(10))
    assert strip.size == (8 * 64, 2 * 64)
    assert strip.getpixel((10, 64 + 10)) == (80, 128, 175)  # frame 8 starts the second row


def test_written_videos_stay_within_the_output_limits(output_dir, monkeypatch):
    monkeypatch.setattr(config, "OUTPUT_MAX_FILES", 4)
    for _ in range(7):
        write_mp4(frames(4), 4, {})
        write_gif(frames(4), 4, {})
    assert len(list(output_dir.iterdir())) == 4


def test_a_start_picture_becomes_a_half_size_sprite_in_the_middle_of_a_frame_of_its_edge_colour():
    picture = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    picture.paste((255, 0, 0, 255), (110, 10, 190, 90))  # a red square in the middle, transparent around it
    frame = start_frame(picture)
    assert frame.size == (config.VIDEO_SIZE,) * 2 and frame.mode == "RGB"
    middle, quarter = config.VIDEO_SIZE // 2, config.VIDEO_SIZE // 4
    assert frame.getpixel((middle, middle)) == (255, 0, 0)
    assert frame.getpixel((quarter - 2, middle)) == frame.getpixel((middle, quarter - 2)) == (240, 240, 240)
    on_blue = Image.new("RGB", (40, 40), (0, 0, 200))
    on_blue.paste((250, 250, 0), (4, 4, 36, 36))
    frame = start_frame(on_blue)
    assert frame.getpixel((1, 1)) == (0, 0, 200) and frame.getpixel((middle, middle)) == (250, 250, 0)


def test_a_small_drawing_off_the_middle_of_a_coloured_picture_is_centred_with_that_colour_around_it():
    """As the diffusion model may draw "a yellow smiling face" in a corner of a purple picture: the face is what
    moves, about its own middle, so it is the sprite's middle; the purple, not the light grey, fills the rest."""
    purple, yellow = (170, 80, 180), (240, 220, 60)
    picture = Image.new("RGB", (64, 64), purple)
    picture.paste(yellow, (2, 4, 22, 24))  # 20 px near the top left corner: the square around it leaves the picture
    square = drawing_square(picture.convert("RGBA"))
    assert square.width == square.height == math.ceil(20 / OBJECT_SHARE)
    pixels = np.asarray(square.convert("RGB")).astype(int)
    assert (pixels[0] == purple).all() and (pixels[:, 0] == purple).all()  # beyond the picture: its colour
    frame = np.asarray(start_frame(picture)).astype(int)
    rows, columns = np.nonzero(np.abs(frame - yellow).max(-1) < 40)
    assert abs((rows.min() + rows.max() + 1) / 2 - config.VIDEO_SIZE / 2) <= 1
    assert abs((columns.min() + columns.max() + 1) / 2 - config.VIDEO_SIZE / 2) <= 1
    assert (np.abs(frame[:2] - purple).max(-1) <= 8).all()  # the frame around the sprite is purple too


def test_a_small_drawing_anywhere_in_a_start_picture_becomes_a_sprite_it_fills_as_our_models_emoji_do():
    picture = Image.new("RGB", (64, 64), BACKGROUND)
    picture.paste((255, 0, 0), (4, 6, 24, 26))  # 20 px of 64, near the top left corner, as the world model draws
    frame = np.asarray(start_frame(picture)).astype(int)
    rows, columns = np.nonzero(np.abs(frame - (255, 0, 0)).max(-1) < 60)
    sprite = config.VIDEO_SIZE // 2
    assert abs((rows.min() + rows.max() + 1) / 2 - config.VIDEO_SIZE / 2) <= 1
    assert abs((columns.min() + columns.max() + 1) / 2 - config.VIDEO_SIZE / 2) <= 1
    assert abs(rows.max() - rows.min() + 1 - OBJECT_SHARE * sprite) <= 3  # scaled as big as an emoji in its square
    wide = Image.new("RGBA", (64, 64), BACKGROUND + (255,))
    span = math.ceil(CROP_BELOW_SHARE * 64)
    wide.paste((0, 0, 200, 255), (2, 20, 2 + span, 30))  # spans enough: kept at its size, centred
    square = np.asarray(drawing_square(wide))
    assert square.shape[:2] == (64, 64)
    rows, columns = np.nonzero(square[..., 2] == 200)
    assert (rows.min() + rows.max() + 1) / 2 == 32 and (columns.min() + columns.max() + 1) / 2 == 32
    assert columns.max() - columns.min() + 1 == span
    blank = Image.new("RGBA", (64, 64), BACKGROUND + (255,))
    assert drawing_square(blank) is blank


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_frames": 3}, "num_frames must be between 4 and 64, got 3"),
        ({"num_frames": 65}, "num_frames must be between 4 and 64, got 65"),
        ({"num_frames": 10.5}, "num_frames must be a whole number, got 10.5"),
        ({"fps": 1}, "fps must be between 2 and 30, got 1"),
        ({"fps": 31}, "fps must be between 2 and 30, got 31"),
        ({"fps": math.nan}, "fps must be a finite number between 2 and 30, got nan"),
        ({"num_frames": math.inf}, "num_frames must be a finite number between 4 and 64, got inf"),
        ({"motion": "wiggle"}, "motion must be one of 'auto', 'bounce', 'slide_left'"),
        ({"seed": -1}, "seed must be between 0 and 4294967295, got -1"),
        ({"image_backend": "openai"}, "image_backend must be one of 'diffusion', 'gan', got 'openai'"),
        ({"prompt": "x" * 8001}, "prompt is too long: 8001 characters, the limit is 8000"),
    ],
)
def test_bad_settings_get_a_message_naming_the_parameter_value_and_range(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        VideoSettings(**kwargs)


def test_the_motion_comes_from_the_prompt_when_auto_and_bounce_otherwise():
    assert VideoSettings(prompt="a spinning top").chosen_motions() == ["spin"]
    assert VideoSettings(prompt="a red apple").chosen_motions() == ["bounce"]
    assert VideoSettings(prompt="a spinning top", motion="zoom_in").chosen_motions() == ["zoom_in"]


def test_a_video_needs_a_prompt_or_a_start_picture():
    with pytest.raises(ValueError, match="give a start for the video: a prompt or an image"):
        generate_video(VideoSettings(prompt="   "))
