"""The LSTM's gate maps, one set per made frame, and the Video tab's picture of them (playground/video/render.py)."""

import numpy as np
import pytest
import torch
from PIL import Image

from playground import config
from playground.video import VideoSettings, generate_video
from playground.video.convlstm import GateMaps, Sequencer, SequencerConfig, save_sequencer
from playground.video.render import (
    CELL_COLOURS,
    EXPECTED_COLOURS,
    GATE_COLOURS,
    GATE_FOOTER,
    GATE_MARGIN,
    GATE_PANEL,
    GATE_TITLE,
    gate_view,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")
PANELS = 7  # the frame read, forget, input, output, cell state, the expected sprite, the frame made


@pytest.fixture
def tiny_video_model(tmp_path, monkeypatch):
    """A tiny untrained sequencer saved where the app loads its video model from."""
    torch.manual_seed(0)
    save_sequencer(Sequencer(SequencerConfig(width=8, hidden=8, layers=2, motion_dim=4)).eval(), tmp_path)
    monkeypatch.setattr(config, "VIDEO_MODEL_DIR", tmp_path)


def start_picture() -> Image.Image:
    picture = Image.new("RGB", (40, 40), (240, 240, 240))
    picture.paste((220, 30, 30), (8, 8, 32, 32))
    return picture


def panel(view: Image.Image, n: int) -> np.ndarray:
    """The n-th panel of a gate view (0 = the frame read) as an array."""
    left, top = GATE_MARGIN + n * (GATE_PANEL + GATE_MARGIN), GATE_MARGIN + GATE_TITLE
    return np.asarray(view.crop((left, top, left + GATE_PANEL, top + GATE_PANEL)))


def colour(colours, value: float) -> np.ndarray:
    return np.asarray(colours(value, bytes=True)[:3])


def test_every_made_frame_has_quarter_size_maps_with_gates_and_expected_place_in_0_1_and_a_memory_of_zero_or_more(
        tiny_video_model):
    made = generate_video(VideoSettings(motion="spin", num_frames=6), start_picture())
    assert len(made.gates) == len(made.frames) - 1 == 5
    for maps in made.gates:
        for name in ("input", "forget", "output", "cell", "expected"):
            assert getattr(maps, name).shape == (config.VIDEO_SIZE // 4,) * 2, name
        for gate in (maps.input, maps.forget, maps.output, maps.expected):
            assert gate.min() >= 0 and gate.max() <= 1
        assert maps.cell.min() >= 0
        assert maps.means() == pytest.approx({name: getattr(maps, name).mean() for name in maps.means()})
    assert made.gates[0].cell.mean() != pytest.approx(made.gates[-1].cell.mean())  # the memory changes as it goes


def plain_frames(count: int) -> list[Image.Image]:
    return [Image.new("RGB", (config.VIDEO_SIZE,) * 2, (40 * n, 100, 200)) for n in range(count)]


def constant_maps(gate: float, cell: float, expected: float = 0.0) -> GateMaps:
    side = config.VIDEO_SIZE // 4
    return GateMaps(*(np.full((side, side), value, dtype=np.float32) for value in (gate, gate, gate, cell, expected)))


def test_the_view_shows_the_frame_read_the_maps_on_their_scales_and_the_frame_made():
    frames = plain_frames(4)
    gates = [constant_maps(0.0, 1.0, 0.25), constant_maps(1.0, 2.0, 1.0), constant_maps(0.5, 0.5)]
    view = gate_view(frames, gates, 2)
    assert view.size == (PANELS * (GATE_PANEL + GATE_MARGIN) + GATE_MARGIN,
                         GATE_MARGIN + GATE_TITLE + GATE_PANEL + GATE_FOOTER)
    assert (panel(view, 0) == np.asarray(frames[1])[0, 0]).all()  # it reads frame 1 ...
    assert (panel(view, 6) == np.asarray(frames[2])[0, 0]).all()  # ... and makes frame 2
    for n in (1, 2, 3):  # forget, input and output gates, all 1: the top of the gates' fixed scale
        assert (panel(view, n) == colour(GATE_COLOURS, 1.0)).all()
    assert (panel(view, 4) == colour(CELL_COLOURS, 1.0)).all()  # 2.0 is the largest cell state of the video
    assert (panel(view, 5) == colour(EXPECTED_COLOURS, 1.0)).all()  # the sprite expected to cover the whole place
    first = gate_view(frames, gates, 1)
    assert (panel(first, 1) == colour(GATE_COLOURS, 0.0)).all()
    assert (panel(first, 4) == colour(CELL_COLOURS, 0.5)).all()  # 1.0 of 2.0, on the same scale as frame 2
    assert (panel(first, 5) == colour(EXPECTED_COLOURS, 0.25)).all()


def test_gates_that_vary_by_a_few_hundredths_span_the_whole_scale():
    frames = plain_frames(3)
    spot = constant_maps(0.55, 1.0)
    spot.forget[4:8, 4:8] = 0.6  # forget gate 0.05 higher where the sprite might be
    view = gate_view(frames, [spot, constant_maps(0.58, 1.0)], 1)
    scale = GATE_PANEL // spot.forget.shape[0]
    assert (panel(view, 1)[6 * scale, 6 * scale] == colour(GATE_COLOURS, 1.0)).all()  # the video's highest gate
    assert (panel(view, 1)[12 * scale, 12 * scale] == colour(GATE_COLOURS, 0.0)).all()  # and its lowest
    assert (panel(gate_view(frames, [spot, constant_maps(0.58, 1.0)], 2), 2) == colour(GATE_COLOURS, 0.6)).all()


def test_the_maps_outline_the_sprite_of_the_frame_read():
    frames = plain_frames(3)
    frames[0].paste((250, 250, 250), (16, 16, 48, 48))
    view = gate_view(frames, [constant_maps(0.0, 0.0)] * 2, 1)
    forget = panel(view, 1)
    scale = GATE_PANEL // config.VIDEO_SIZE
    inside, edge = forget[32 * scale, 32 * scale], forget[32 * scale, 16 * scale]
    assert (inside == colour(GATE_COLOURS, 0.0)).all()
    assert edge.min() > 150  # a light line where the sprite's edge is
    assert (panel(gate_view(frames, [constant_maps(0.0, 0.0)] * 2, 2), 1) == colour(GATE_COLOURS, 0.0)).all()


@pytest.mark.parametrize("frame", [0, 4, 1.5, "2"])
def test_a_frame_outside_the_made_frames_is_refused_naming_it(frame):
    with pytest.raises(ValueError, match="^frame must be"):
        gate_view(plain_frames(4), [constant_maps(0.5, 1.0)] * 3, frame)
