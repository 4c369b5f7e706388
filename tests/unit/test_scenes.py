"""The world's scenes (playground.training.scenes): drawn as their captions say, on the real emoji sprites."""

import random

import numpy as np
import pytest
import torch
from PIL import Image

from playground import config
from playground.image.pictures import COLOUR_WORDS, colour_words, pixel_colours
from playground.image.world import OBJECT_COLOURS, OBJECTS, SIZE, area_of, read_prompt, relation_holds, size_of
from playground.training.emoji_styles import TRAINING_STYLES
from playground.training.scenes import (
    CAPTION_LEVELS,
    DEFAULT_BACKGROUND,
    MARGIN,
    MONOCHROME_STYLE,
    at_level,
    caption,
    heldout_combinations,
    load_world_sprites,
    object_sheet,
    recolour,
    render,
    sample_scene,
)

SCENES = 300


@pytest.fixture(scope="module")
def world():
    return load_world_sprites(TRAINING_STYLES)


@pytest.fixture(scope="module")
def scenes(world):
    rng = random.Random(0)
    return [sample_scene(rng, world) for _ in range(SCENES)]


def test_every_object_has_a_sprite_in_every_training_style(world):
    assert {name for name, _ in world.sprites} == set(OBJECTS)
    assert len(world.sprites) == len(OBJECTS) * len(TRAINING_STYLES)


def test_the_committed_object_sheet_shows_the_worlds_objects_as_object_sheet_draws_them(world):
    drawn = np.asarray(object_sheet(world), dtype=np.float32)
    with Image.open(config.ASSETS_DIR / "examples" / "world_objects.png") as committed:
        shipped = np.asarray(committed.convert("RGB"), dtype=np.float32)
    redraw = "python -m playground.training.scenes --objects --out assets/examples/world_objects.png"
    assert shipped.shape == drawn.shape, f"the vocabulary changed: run {redraw}"
    assert np.abs(shipped - drawn).mean() < 1.0  # the same sprites and names (a font's anti-aliasing may differ)


def test_captions_at_every_level_read_back_as_the_scene_says_them(scenes):
    rng = random.Random(1)
    for scene in scenes:
        for level in range(1, CAPTION_LEVELS):
            replay = random.Random()
            replay.setstate(rng.getstate())
            text = caption(scene, level, rng)
            assert read_prompt(text) == at_level(scene.full_request, level, replay), text


def test_the_vaguest_caption_names_no_object_but_asks_for_nothing_unknown(scenes):
    plain = [scene for scene in scenes if scene.background == DEFAULT_BACKGROUND][:50]
    assert plain
    for scene in plain:
        request = read_prompt(caption(scene, 0, random.Random(0)))
        assert request.things == () and request.unknown == ()


def test_a_caption_that_says_no_background_means_the_default_one(scenes):
    coloured = [scene for scene in scenes if scene.background != DEFAULT_BACKGROUND]
    assert coloured
    for scene in coloured:
        for level in range(CAPTION_LEVELS):
            assert read_prompt(caption(scene, level, random.Random(level))).background == scene.background


def test_objects_are_where_their_details_say_inside_the_frame_and_apart(scenes):
    for scene in scenes:
        request = scene.request
        things = list(scene.things)
        for thing in things:
            x0, y0, x1, y1 = thing.box
            assert 0 <= x0 < x1 <= SIZE and 0 <= y0 < y1 <= SIZE
        for i, a in enumerate(things):
            for b in things[i + 1:]:
                assert (a.box[2] + MARGIN <= b.box[0] or b.box[2] + MARGIN <= a.box[0]
                        or a.box[3] + MARGIN <= b.box[1] or b.box[3] + MARGIN <= a.box[1])
        placed = iter(things)
        for asked in request.things:
            for _ in range(asked.count):
                thing = next(placed)
                assert thing.name == asked.name and thing.colour == asked.colour
                assert size_of(max(thing.box[2] - thing.box[0], thing.box[3] - thing.box[1])) == (asked.size or "medium")
                if asked.area:
                    assert area_of(thing.centre) == asked.area
        if request.relation:
            first, relation, second = request.relation
            assert relation_holds(relation, things[first].centre, things[second].centre)


def test_training_scenes_never_show_a_heldout_combination_and_heldout_scenes_do(world, scenes):
    assert all(not heldout_combinations(s) for s in scenes)
    rng = random.Random(2)
    assert all(heldout_combinations(sample_scene(rng, world, "heldout")) for _ in range(20))


def test_black_and_white_scenes_are_never_recoloured(scenes):
    monochrome = [s for s in scenes if s.style == MONOCHROME_STYLE]
    assert monochrome and all(t.colour is None for s in monochrome for t in s.things)


@pytest.mark.parametrize("colour", OBJECT_COLOURS)
def test_a_recoloured_object_reads_as_its_colour(world, colour):
    read = []
    for (name, style), sprite in world.sprites.items():
        if style == MONOCHROME_STYLE:
            continue
        drawn = recolour(sprite, colour)
        straight = torch.cat([drawn[:3] / drawn[3:].clamp(min=1e-6), drawn[3:]]).permute(1, 2, 0)
        read.append(colour_words((straight * 255).round().byte().numpy())[:1] == [colour])
    assert np.mean(read) >= 0.95


def test_the_background_reads_as_its_colour_words(scenes, world):
    for scene in scenes[:100]:
        picture = (render(scene, world).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        free = np.ones((SIZE, SIZE), dtype=bool)
        for t in scene.things:
            free[t.box[1]: t.box[3], t.box[0]: t.box[2]] = False
        top = picture[0][free[0]]
        bottom = picture[-1][free[-1]]
        if len(top) and len(bottom):
            assert COLOUR_WORDS[pixel_colours(top[:1])[0]] == scene.background[0]
            assert COLOUR_WORDS[pixel_colours(bottom[:1])[0]] == scene.background[-1]
