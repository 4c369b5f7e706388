"""The video model's parts: motions, synthetic clips, a tiny ConvLSTM saved and loaded, its drawing, and its trainer."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import fake_packages
from PIL import Image, ImageDraw
from safetensors.torch import load_file, save_file

from playground import config
from playground.training import loop
from playground.training import video as video_trainer
from playground.training.clips import (
    NEAR_FLOOR,
    SPRITE_SIZE,
    ClipBatch,
    backgrounds,
    centred,
    compose,
    draw_sprites,
    load_sprites,
    picture_start_clips,
    random_clips,
)
from playground.video import frame_tensor, start_frame
from playground.video.convlstm import (
    CLOCK_PERIODS,
    CONTACT_PIXELS,
    Layers,
    Sequencer,
    SequencerConfig,
    box,
    clock,
    contact,
    coordinates,
    draw,
    fit_plane,
    floor_gap,
    gate_maps,
    load_sequencer,
    objects,
    place,
    rollout,
    save_sequencer,
    sprite_box,
)
from playground.video.motions import (
    BOUNCE_PERIOD,
    MOTIONS,
    SLIDE_SPEED,
    SPIN_DEGREES,
    ZOOM_RATE,
    find_motion,
    find_motions,
    floor_height,
    poses,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SIZE = 32


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """A cache folder with the fake emoji packages (no npm, no network); sprites are made from them on first use."""
    root = tmp_path_factory.mktemp("video-cache")
    fake_packages(root / "npm")
    return root


def tiny_sequencer() -> Sequencer:
    torch.manual_seed(0)
    return Sequencer(SequencerConfig(width=8, hidden=8, layers=2, motion_dim=4, image_size=SIZE)).eval()


@pytest.mark.parametrize(
    ("prompt", "motion", "rest"),
    [("a bouncing red ball", "bounce", "a red ball"), ("a star Spinning", "spin", "a star"),
     ("a rotating wheel", "spin", "a wheel"), ("a face zooming in", "zoom_in", "a face"),
     ("a balloon that shrinks", "zoom_out", "a balloon that"), ("a shaking leaf", "shake", "a leaf"),
     ("a car, left", "slide_left", "a car"), ("a rocket flying up", "slide_up", "a rocket"),
     ("a leaf falling", "slide_down", "a leaf"),
     ("a red apple", None, "a red apple"), ("a cup of tea", None, "a cup of tea"), ("bright light", None, "bright light")],
)
def test_motion_words_in_a_prompt_name_the_motion_and_leave_the_picture(prompt, motion, rest):
    assert find_motion(prompt) == (motion, rest)


def test_each_motion_moves_the_sprite_by_its_rule():
    centre, half = torch.tensor([[0.0, -0.5]]), torch.tensor([0.3])
    centres, angles, halves = poses("slide_right", centre, half, 5)
    assert torch.allclose(centres[0, :, 0], SLIDE_SPEED * torch.arange(5.0)) and torch.all(centres[0, :, 1] == -0.5)
    centres, _, _ = poses("bounce", centre, half, BOUNCE_PERIOD + 1)
    heights = centres[0, :, 1]
    assert heights[0] == heights[BOUNCE_PERIOD] == -0.5  # back at the top after one period
    assert torch.isclose(heights[BOUNCE_PERIOD // 2], torch.tensor(1 - 0.3))  # touching the floor half-way
    _, angles, _ = poses("spin", centre, half, 3)
    assert torch.allclose(angles[0], torch.tensor([0, math.radians(SPIN_DEGREES), 2 * math.radians(SPIN_DEGREES)]))
    _, _, halves = poses("zoom_out", centre, half, 3)
    assert torch.allclose(halves[0], 0.3 / ZOOM_RATE ** torch.arange(3.0))
    with pytest.raises(ValueError, match="motion must be one of bounce, slide_left"):
        poses("wiggle", centre, half, 3)


def test_a_sprite_is_drawn_where_its_pose_says_over_the_background():
    sprite = torch.zeros(1, 4, 16, 16)
    sprite[:, 0], sprite[:, 3] = 1.0, 1.0  # an opaque red square (premultiplied)
    background = torch.full((1, 3, SIZE, SIZE), 0.5)
    centres = torch.tensor([[[-0.5, 0.0], [0.5, 0.0]]])
    frames = compose(draw_sprites(sprite, centres, torch.zeros(1, 2), torch.full((1, 2), 0.25), SIZE), background)
    assert frames.shape == (1, 2, 3, SIZE, SIZE)
    first, second = frames[0, 0], frames[0, 1]
    assert first[0, SIZE // 2, SIZE // 4] == 1 and first[1, SIZE // 2, SIZE // 4] == 0  # red on the left in frame 0
    assert second[0, SIZE // 2, 3 * SIZE // 4] == 1  # on the right in frame 1
    assert first[:, 2, 3 * SIZE // 4].tolist() == [0.5, 0.5, 0.5]  # background elsewhere


def test_backgrounds_are_varied_and_clips_are_reproducible(cache_dir):
    many = backgrounds(64, SIZE, torch.Generator().manual_seed(0))
    assert many.std(0).mean() > 0.1 and many.min() >= 0 and many.max() <= 1
    sprites = load_sprites("train", cache_dir)
    assert sprites.shape[1:] == (4, 64, 64) and len(load_sprites("heldout", cache_dir)) == 1
    first = random_clips(sprites, 9, 6, SIZE, torch.Generator().manual_seed(3))
    again = random_clips(sprites, 9, 6, SIZE, torch.Generator().manual_seed(3))
    assert torch.equal(first.frames, again.frames) and first.frames.shape == (9, 6, 3, SIZE, SIZE)
    spinning = random_clips(sprites, 2, 4, SIZE, torch.Generator().manual_seed(3), "spin")
    assert spinning.motions.tolist() == [MOTIONS.index("spin")] * 2


def test_picture_start_clips_begin_as_the_video_tab_begins_from_that_picture_and_move_its_square_and_object(cache_dir):
    size, count = config.VIDEO_SIZE, 3
    sprites = load_sprites("train", cache_dir)
    clips = picture_start_clips(sprites, count, 4, size, torch.Generator().manual_seed(2), "bounce")
    side = size // 2
    middle = slice((size - side) // 2, (size + side) // 2)
    for frame in clips.frames[:, 0]:
        picture = Image.fromarray(frame[:, middle, middle].mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy())
        assert (frame_tensor(start_frame(picture)) - frame).abs().amax() <= 3 / 255
    inside = clips.alpha[:, 0, 0, middle, middle]
    assert clips.alpha[:, 0].sum() == pytest.approx(inside.sum())  # nothing outside the picture
    assert 0.05 < inside.mean() < 0.95  # the object in it, not the whole square: what the matte should find
    centres, _, _ = poses("bounce", torch.zeros(count, 2), torch.full((count,), 0.5), 4)
    assert torch.allclose(clips.centres, centres) and clips.motions.tolist() == [MOTIONS.index("bounce")] * count


@pytest.mark.parametrize("share", [video_trainer.FOCUS_SHARE, 0.25, 1.0])
def test_a_focused_training_batch_gives_its_share_to_the_motion_and_keeps_every_field_aligned(cache_dir, share):
    sprites = load_sprites("train", cache_dir)
    batch = video_trainer.training_clips(sprites, 256, 5, SIZE, torch.Generator().manual_seed(1), "bounce", share)
    focused = batch.motions == MOTIONS.index("bounce")
    pictures = round(256 * video_trainer.PICTURE_SHARE)
    drawn_at_random = 256 - pictures - round((256 - pictures) * share)
    expected, spread = 256 - drawn_at_random * (1 - 1 / len(MOTIONS)), math.sqrt(drawn_at_random / len(MOTIONS))
    assert abs(focused.sum().item() - expected) <= 4 * spread and focused.all() == (share == 1)
    assert all(len(field) == 256 for field in vars(batch).values())
    centres, _, _ = poses("bounce", batch.centres[focused, 0], batch.halves[focused, 0], 5)
    assert torch.allclose(batch.centres[focused], centres)  # each clip's poses stayed with its motion


def test_a_share_of_the_training_bounces_start_near_the_floor_and_the_evaluations_do_not(cache_dir):
    sprites = load_sprites("train", cache_dir)
    low, high = NEAR_FLOOR

    def near_share(clips) -> float:
        above_floor = floor_height(clips.halves[:, 0]) - clips.centres[:, 0, 1]
        return ((above_floor >= low) & (above_floor <= high)).float().mean().item()

    count = 1000
    evaluation = random_clips(sprites, count, 2, SIZE, torch.Generator().manual_seed(4), "bounce")
    chance = near_share(evaluation)
    assert chance < 0.1  # a start anywhere in the middle of the frame seldom gives a small bounce
    training = random_clips(sprites, count, 2, SIZE, torch.Generator().manual_seed(4), "bounce",
                            video_trainer.NEAR_FLOOR_SHARE)
    expected = video_trainer.NEAR_FLOOR_SHARE + (1 - video_trainer.NEAR_FLOOR_SHARE) * chance
    assert abs(near_share(training) - expected) <= 4 * math.sqrt(expected * (1 - expected) / count)
    assert near_share(random_clips(sprites, 50, 2, SIZE, torch.Generator().manual_seed(4), "bounce", 1.0)) == 1
    sliding = random_clips(sprites, 50, 2, SIZE, torch.Generator().manual_seed(4), "slide_left", 1.0)
    assert near_share(sliding) < 0.5  # only bounces start near the floor
    batch = video_trainer.training_clips(sprites, 400, 2, SIZE, torch.Generator().manual_seed(1), "bounce", 1.0)
    drawn = batch.halves[:, 0] != 0.5  # not the picture starts, which are all in the middle
    assert near_share(ClipBatch(*(field[drawn] for field in vars(batch).values()))) > expected - 0.1


@pytest.mark.parametrize("share", ["2", "-0.1", "nan"])
def test_the_trainer_refuses_a_focus_share_outside_0_to_1(tmp_path, capsys, share):
    with pytest.raises(SystemExit):
        video_trainer.main(["--out", str(tmp_path), "--focus", "bounce", "--focus-share", share])
    assert f"--focus-share: must be between 0 and 1, got {share}" in capsys.readouterr().err


def test_the_pose_loss_weighs_a_bounces_steps_at_the_floor_most_and_a_steady_motions_frames_alike():
    def weights(motion: str) -> torch.Tensor:
        centres, angles, halves = poses(motion, torch.tensor([[0.0, -0.3]]), torch.tensor([0.4]), 41)
        pose = torch.cat([centres - centres[:, :1], angles[..., None], torch.log(halves / halves[:, :1])[..., None]], -1)
        return video_trainer.turn_weights(pose, torch.tensor([[[32.0, 32.0, 12.8, 12.8]]]))[0]

    floor = BOUNCE_PERIOD // 2  # the bounce touches the floor at frames 10 and 30; weight n is frame n + 1's
    bounce = weights("bounce")
    assert set(bounce.topk(6).indices.tolist()) == {floor - 1, floor, floor + 1, 3 * floor - 1, 3 * floor, 3 * floor + 1}
    assert bounce.max() > 5 * bounce.min() and torch.allclose(bounce.mean(), torch.tensor(1.0))
    for steady in ("slide_left", "spin", "zoom_in"):
        assert torch.allclose(weights(steady), torch.ones(40), atol=1e-3), steady


def test_a_tiny_sequencer_saved_and_loaded_rolls_out_the_same_frames(tmp_path):
    model = tiny_sequencer()
    save_sequencer(model, tmp_path / "video")
    loaded = load_sequencer(tmp_path / "video")
    start = torch.rand(2, 3, SIZE, SIZE)
    motion = torch.tensor([0, 5])
    with torch.no_grad():
        made = list(rollout(model, start, motion, 5))
        again = list(rollout(loaded, start, motion, 5))
    assert len(made) == 5
    for step, step_again in zip(made, again):
        assert step.frame.shape == (2, 3, SIZE, SIZE) and 0 <= step.frame.min() and step.frame.max() <= 1
        assert torch.equal(step.frame, step_again.frame) and step.pose.shape == (2, 4)
        maps = gate_maps(step)
        for name in ("input", "forget", "output"):
            assert getattr(maps, name).shape == (SIZE // 4, SIZE // 4)
            assert 0 < getattr(maps, name).min() and getattr(maps, name).max() < 1
        assert maps.cell.min() >= 0 and maps.means()["cell"] > 0


def test_the_motion_changes_the_rollout():
    model = tiny_sequencer()
    with torch.no_grad():
        model.step_head[-1].weight.normal_()  # a trained model moves; a fresh one starts still
        start = torch.rand(1, 3, SIZE, SIZE)
        bounce = [s.frame for s in rollout(model, start, torch.tensor([0]), 3)]
        spin = [s.frame for s in rollout(model, start, torch.tensor([5]), 3)]
    assert not torch.equal(bounce[-1], spin[-1])


def test_a_plane_fitted_under_weights_recovers_a_gradient_behind_a_sprite():
    background = 0.2 + 0.3 * coordinates(torch.zeros(1, 3, SIZE, SIZE))[:, :1].expand(-1, 3, -1, -1)
    frame, hidden = background.clone(), torch.zeros(1, 1, SIZE, SIZE)
    frame[..., 8:24, 8:24], hidden[..., 8:24, 8:24] = 1.0, 1.0  # a white square over a left-to-right ramp
    assert torch.allclose(fit_plane(frame, 1 - hidden), background, atol=1e-3)


def test_a_sprite_drawn_at_a_pose_moves_turns_and_grows_around_its_pivot():
    sprite = torch.zeros(1, 4, SIZE, SIZE)
    sprite[:, 0, 12:20, 12:16], sprite[:, 3, 12:20, 12:16] = 1.0, 1.0  # a red bar, 4 wide and 8 tall, in the middle
    layers = Layers(sprite, torch.zeros(1, 3, SIZE, SIZE), torch.zeros(1, 2))
    still = draw(layers, torch.zeros(1, 4))
    assert torch.allclose(still, sprite[:, :3], atol=1e-5)
    moved = draw(layers, torch.tensor([[4 / SIZE * 2, 0.0, 0.0, 0.0]]))  # 4 pixels to the right
    assert torch.allclose(moved[..., 16:20], sprite[:, :3, :, 12:16], atol=1e-5)
    turned = draw(layers, torch.tensor([[0.0, 0.0, math.pi / 2, 0.0]]))[0, 0] > 0.5  # a quarter turn lies down
    rows, columns = turned.nonzero().T
    assert columns.max() - columns.min() + 1 == 8 and rows.max() - rows.min() + 1 == 4
    grown = draw(layers, torch.tensor([[0.0, 0.0, 0.0, math.log(2)]]))[0, 0] > 0.5
    assert grown.sum() == 4 * 32


def test_the_middle_of_a_sprites_box_is_found_to_a_fraction_of_a_pixel_whatever_its_shape():
    sprite = torch.zeros(1, 4, 16, 16)
    sprite[:, :, 0:3, 6:10] = 1.0  # the dot of an "i", apart from its stem: most of the mass is low and left
    sprite[:, :, 6:16, 0:10] = 1.0
    sprite[:, :, 13:16, 10:16] = 1.0  # a foot reaching the right edge: the box is the whole square
    centre, half = torch.tensor([[[0.13, -0.21]]]), torch.full((1, 1), 0.3)
    alpha = draw_sprites(sprite, centre, torch.zeros(1, 1), half, 64)[:, 0, 3:]
    middle, extent = sprite_box(alpha)
    assert (middle - centre[:, 0]).norm() * 32 < 0.05  # pixels of a 64-pixel frame
    assert torch.allclose(extent, torch.full((1, 2), 0.3 * 64), atol=0.05)
    mass = (alpha * coordinates(alpha)).flatten(2).sum(2) / alpha.sum()
    assert (mass - centre[:, 0]).norm() * 32 > 2  # the centre of mass is no pivot: it is pixels off


def test_a_sprite_is_centred_on_its_box_with_its_longer_side_filling_the_square():
    picture = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    ImageDraw.Draw(picture).rectangle((3, 20, 30, 33), fill=(255, 0, 0, 255))  # off-centre, wider than tall
    ImageDraw.Draw(picture).rectangle((10, 37, 13, 40), fill=(0, 0, 255, 255))  # and a dot below it
    sprite = torch.from_numpy(np.asarray(centred(picture)).copy()).permute(2, 0, 1).float()[None] / 255
    middle, extent = sprite_box(sprite[:, 3:])
    assert sprite.shape[-1] == SPRITE_SIZE and middle.norm() * SPRITE_SIZE / 2 < 0.1
    assert extent.max() > SPRITE_SIZE - 1 and extent.min() < SPRITE_SIZE - 10


def test_a_shrinking_sprite_is_anti_aliased_and_a_still_one_is_the_start_frames_own():
    checks = (torch.arange(SIZE)[:, None] + torch.arange(SIZE)[None]) % 2  # a one-pixel checkerboard
    sprite = torch.cat([checks.float().expand(3, -1, -1), torch.ones(1, SIZE, SIZE)])[None]
    layers = Layers(sprite, torch.zeros(1, 3, SIZE, SIZE), torch.zeros(1, 2))
    assert torch.equal(place(layers, torch.zeros(1, 4)), sprite)
    shrunk = place(layers, torch.tensor([[0.0, 0.0, 0.0, -math.log(2.5)]]))[0, 0, 12:20, 12:20]
    assert (shrunk - 0.5).abs().max() < 0.2  # grey, as the eye sees a fine checkerboard; sampled once it aliases


def test_a_growing_sprite_keeps_valid_colours():
    torch.manual_seed(0)
    alpha = torch.rand(1, 1, SIZE, SIZE).round()
    sprite = torch.cat([torch.rand(1, 3, SIZE, SIZE) * alpha, alpha], 1)  # sharp, noisy: bicubic overshoots on it
    grown = place(Layers(sprite, torch.zeros(1, 3, SIZE, SIZE), torch.zeros(1, 2)),
                  torch.tensor([[0.1, 0.0, 0.3, math.log(1.7)]]))
    assert grown.min() >= 0 and grown[:, 3].max() <= 1 and (grown[:, :3] <= grown[:, 3:] + 1e-6).all()


def test_the_step_head_reads_the_lstm_where_the_sprite_is_and_still_moves_once_it_has_left():
    model = tiny_sequencer()
    with torch.no_grad():
        model.step_head[-1].weight.normal_()
        frame, motion, move = torch.rand(1, 3, SIZE, SIZE), torch.tensor([0]), torch.zeros(1, 4)
        square, ring, gone = torch.zeros(3, 1, 1, SIZE, SIZE)
        square[..., 4:28, 4:28], ring[..., 4:28, 4:28] = 1.0, 1.0
        ring[..., 8:24, 8:24] = 0.0  # the same box as the square's, but other cells
        moves = {name: model(frame, coverage, motion, move, model.initial_state(frame), 0, box(coverage))[0]
                 for name, coverage in (("square", square), ("ring", ring), ("gone", gone))}
    assert all(torch.equal(a, b) for a, b in zip(sprite_box(square), sprite_box(ring), strict=True))
    assert not torch.allclose(moves["square"], moves["ring"])
    assert moves["gone"].isfinite().all()  # no sprite cell to read: it reads them all


def test_the_step_head_reads_the_phase_of_each_repeating_motion_from_the_frames_number():
    frame, coverage, motion, move = torch.rand(1, 3, SIZE, SIZE), torch.zeros(1, 1, SIZE, SIZE), torch.tensor([0]), \
        torch.zeros(1, 4)
    coverage[..., 4:28, 4:28] = 1.0
    every = math.lcm(*CLOCK_PERIODS)  # a frame this many later is at the same phase of every repeating motion
    assert torch.equal(clock(3, frame), clock(3 + every, frame))
    for period in CLOCK_PERIODS:  # half a period on, each motion is at another frame of its period
        assert not torch.equal(clock(0, frame), clock(period // 2, frame))
    model = tiny_sequencer()
    with torch.no_grad():
        model.step_head[-1].weight.normal_()

        def move_at(frame_index: int) -> torch.Tensor:
            return model(frame, coverage, motion, move, model.initial_state(frame), frame_index, box(coverage))[0]

        assert torch.equal(move_at(0), move_at(CLOCK_PERIODS[0] // 2))  # a new model does not read the clock yet
        model.read_clock.weight.normal_()
        assert not torch.allclose(move_at(0), move_at(CLOCK_PERIODS[0] // 2))
        assert torch.allclose(move_at(0), move_at(every), atol=1e-5)


def test_the_step_head_reads_where_the_sprite_started():
    frame, coverage, motion, move = torch.rand(1, 3, SIZE, SIZE), torch.zeros(1, 1, SIZE, SIZE), torch.tensor([0]), \
        torch.zeros(1, 4)
    coverage[..., 4:28, 4:28] = 1.0
    higher = torch.zeros_like(coverage)
    higher[..., 0:12, 4:28] = 1.0  # the same sprite, started higher up
    model = tiny_sequencer()
    with torch.no_grad():
        model.step_head[-1].weight.normal_()

        def move_from(start: torch.Tensor) -> torch.Tensor:
            return model(frame, coverage, motion, move, model.initial_state(frame), 5, box(start))[0]

        assert torch.equal(move_from(coverage), move_from(higher))  # a new model does not read the start yet
        model.read_start.weight.normal_()
        assert not torch.allclose(move_from(coverage), move_from(higher))
    assert torch.allclose(box(higher)[0], torch.tensor([0.0, -0.625, 0.75, 0.375]))  # middle, then size, in frame units


def test_the_step_head_feels_a_frame_edge_when_the_sprites_square_comes_near_it():
    size = 64
    half = torch.tensor([0.3])
    floor = 1 - half  # a bounce's lowest centre: the square touches the bottom edge
    frames = torch.tensor([0.0, 2.0, 4.0])  # pixels above the floor
    centres = torch.stack([torch.zeros(3), floor - frames / (size / 2)], 1)
    wide = torch.zeros(1, 4, 16, 16)
    wide[:, :, 5:11, :] = 1.0  # wider than tall: its square reaches below what is drawn
    alpha = draw_sprites(wide.expand(3, -1, -1, -1), centres[:, None], torch.zeros(3, 1), half.expand(3, 1), size)
    felt = contact(box(alpha[:, 0, 3:]), size)
    assert torch.allclose(felt[:, 3], 1 - frames / CONTACT_PIXELS, atol=0.05)  # bottom: by the square, not the drawing
    assert torch.equal(felt[:, :3], torch.zeros(3, 3))  # left, right and top are far
    assert torch.equal(contact(torch.zeros(1, 4), size), torch.zeros(1, 4))  # a sprite gone


def test_the_floor_step_moves_a_sprite_down_by_a_share_of_its_squares_gap_to_the_floor_at_one_phase_of_one_motion():
    size = 64
    wide = torch.zeros(2, 1, size, size)
    wide[..., 10:20, 8:40] = 1.0  # 32 pixels wide, 10 tall: its square reaches 11 pixels below what is drawn
    wide[1, ..., 43:53, 8:40], wide[1, ..., 10:20, 8:40] = 1.0, 0.0  # the same sprite with its square on the floor
    gap = floor_gap(box(wide))
    assert torch.allclose(gap, torch.tensor([[33 / 32], [0.0]]))  # the square's side is the box's longer one: 33 px up
    frame, move = torch.rand(2, 3, size, size), torch.zeros(2, 4)
    bounce, slide = torch.full((2,), MOTIONS.index("bounce")), torch.full((2,), MOTIONS.index("slide_down"))
    model = tiny_sequencer()
    phase = 5

    def step(motion: torch.Tensor, frame_index: int) -> torch.Tensor:
        with torch.no_grad():
            return model(frame, wide, motion, move, model.initial_state(frame), frame_index, box(wide))[0]

    assert torch.equal(step(bounce, phase), torch.zeros(2, 4))  # a new model does not step down yet
    with torch.no_grad():  # a quarter of the gap at that frame of a bounce's period
        model.floor_step.weight[MOTIONS.index("bounce"), phase] = 0.25
    assert torch.allclose(step(bounce, phase), torch.tensor([[0.0, 0.25 * 33 / 32, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    assert torch.equal(step(bounce, phase + 1), torch.zeros(2, 4))  # nothing at another frame of the period
    assert torch.equal(step(slide, phase), torch.zeros(2, 4))  # nor for another motion


def train(out, cache_dir, steps):
    args = ["--out", str(out), "--cache-dir", str(cache_dir), "--tiny", "--steps", str(steps), "--checkpoint-every", "2",
            "--batch-size", "2", "--frames", "5", "--size", str(SIZE), "--device", "cpu", "--threads", "1"]
    assert video_trainer.main(args) == 0


def test_video_training_resumes_from_its_checkpoint_and_matches_an_uninterrupted_run(cache_dir, tmp_path, capsys):
    resumed, straight = tmp_path / "resumed", tmp_path / "straight"
    train(resumed, cache_dir, 3)
    capsys.readouterr()
    train(resumed, cache_dir, 4)
    assert "resuming at step 3" in capsys.readouterr().out
    train(straight, cache_dir, 4)
    for out in (resumed, straight):
        assert json.loads((out / loop.CHECKPOINT / "progress.json").read_text())["step"] == 4
    first, second = load_file(resumed / "model.safetensors"), load_file(straight / "model.safetensors")
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    assert isinstance(load_sequencer(resumed), Sequencer)
    shutil.rmtree(straight)


def train_from(start: Path, out: Path, cache_dir: Path) -> None:
    args = ["--init", str(start), "--out", str(out), "--cache-dir", str(cache_dir), "--steps", "1", "--lr", "0",
            "--batch-size", "2", "--frames", "5", "--size", str(SIZE), "--device", "cpu", "--threads", "1"]
    assert video_trainer.main(args) == 0


def test_video_training_from_an_exported_model_starts_from_its_weights(cache_dir, tmp_path):
    start, out = tmp_path / "start", tmp_path / "out"
    save_sequencer(tiny_sequencer(), start)
    train_from(start, out, cache_dir)
    first, second = load_file(start / "model.safetensors"), load_file(out / "model.safetensors")
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def test_video_training_from_a_model_exported_before_a_part_was_added_starts_that_part_fresh(cache_dir, tmp_path,
                                                                                           capsys):
    start, out = tmp_path / "start", tmp_path / "out"
    save_sequencer(tiny_sequencer(), start)
    weights = load_file(start / "model.safetensors")
    older = {k: v for k, v in weights.items() if not k.startswith(("expected_head.", "read_place."))}
    save_file(older, start / "model.safetensors")
    train_from(start, out, cache_dir)
    assert "lacks expected_head.weight, expected_head.bias, read_place.weight" in capsys.readouterr().out
    trained = load_file(out / "model.safetensors")
    assert {"expected_head.weight", "expected_head.bias", "read_place.weight"} <= trained.keys()
    assert all(torch.equal(older[k], trained[k]) for k in older)


@pytest.mark.parametrize(
    ("prompt", "motions", "rest"),
    [("an apple sliding left and a heart bouncing", ["slide_left", "bounce"], "an apple sliding and a heart"),
     ("a star spinning, a moon shaking; a sun falling", ["spin", "shake", "slide_down"], "a star, a moon; a sun"),
     ("a bouncing ball", ["bounce"], "a ball"), ("rock and roll", [], "rock and roll")],
)
def test_each_part_of_a_prompt_may_name_its_own_motion(prompt, motions, rest):
    assert find_motions(prompt) == (motions, rest)


def test_the_objects_of_a_matte_are_its_separate_regions_left_to_right_without_specks():
    alpha = torch.zeros(1, 1, SIZE, SIZE)
    alpha[..., 4:12, 20:30] = 1.0  # the right object
    alpha[..., 20:28, 2:10] = 0.9  # the left object
    alpha[..., 2, 2] = 1.0  # a speck
    regions = objects(alpha, min_pixels=4)
    assert len(regions) == 2
    left, right = regions
    assert left[0, 0, 24, 5] == 1 and left[0, 0, 8, 25] == 0 and right[0, 0, 8, 25] == 1
    assert left[0, 0, 19, 5] == 1 and left[0, 0, 18, 5] == 0  # widened by one pixel, to keep the soft edge
