"""The layout planner: a region per object of a prompt of several, each with its own words, the regions tiling the frame."""

import pytest
import torch

from playground.image import planner
from playground.image.world import STYLE_WORDS, read_prompt

SIDE = 16  # the world model's latent side


def read_regions(prompt: str) -> list[tuple]:
    """Each region's prompt read back by the world's reader: (object, count, colour, size, area), background, style."""
    found = []
    for region in planner.plan(prompt):
        request = read_prompt(region.prompt)
        assert len(request.things) == 1 and not request.unknown, region.prompt
        thing = request.things[0]
        assert thing.area == region.area, region.prompt
        found.append(((thing.name, thing.count, thing.colour, thing.size, thing.area), request.background, request.style))
    return found


def test_a_prompt_of_one_object_gets_no_layout():
    assert planner.plan("a small red apple in the top left corner, on a blue background") == []
    assert planner.plan("food") == []


def test_each_object_keeps_its_own_colour_and_size_in_its_region():
    regions = read_regions("a big blue heart and a small red star")
    assert [r[0] for r in regions] == [("heart", 1, "blue", "big", "left"), ("star", 1, "red", "small", "right")]


@pytest.mark.parametrize(("prompt", "areas"), [
    ("a cat above a key", ("top", "bottom")),
    ("a cat below a key", ("bottom", "top")),
    ("a cat to the left of a key", ("left", "right")),
    ("a cat to the right of a key", ("right", "left")),
    ("a cat next to a key", ("left", "right")),
])
def test_a_relation_puts_its_objects_on_opposite_sides(prompt, areas):
    assert tuple(r[0][4] for r in read_regions(prompt)) == areas
    assert [r[0][0] for r in read_regions(prompt)] == ["cat", "key"]


def test_a_count_gives_each_object_its_own_region():
    regions = read_regions("three apples")
    assert [r[0][:2] for r in regions] == [("apple", 1)] * 3
    assert len({r[0][4] for r in regions}) == 3


def test_stated_places_are_kept_and_the_other_objects_go_elsewhere():
    regions = read_regions("two cats in the top left corner and a dog")
    assert regions[0][0] == ("cat", 2, None, None, "top left")
    assert regions[1][0][0] == "dog" and regions[1][0][4] != "top left"


def test_every_region_says_the_pictures_background_and_style():
    regions = read_regions(f"a cat and a dog on a green to blue gradient in {STYLE_WORDS['fluent-flat']} style")
    assert {(r[1], r[2]) for r in regions} == {(("green", "blue"), "fluent-flat")}


def test_more_objects_than_the_world_holds_or_two_at_one_place_get_no_layout():
    assert len(planner.plan("two cats and two dogs")) == planner.MAX_REGIONS
    assert planner.plan("two cats, two dogs and a key") == []
    assert planner.plan("a cat in the top left corner and a dog in the top left corner") == []
    assert len(planner.plan("two cats in the top left corner and two dogs in the bottom right corner")) == 2


@pytest.mark.parametrize("prompt", ["a cat and a dog", "three apples", "four stars", "a cat above a key and a dog",
                                    "a cat in the top left corner, a dog and a key"])
def test_the_regions_tile_the_frame_each_holding_its_own_place(prompt):
    regions = planner.plan(prompt)
    masks = planner.region_masks(regions, SIDE)
    assert masks.shape == (len(regions), SIDE, SIDE)
    assert torch.equal(masks.sum(0), torch.ones(SIDE, SIDE))
    for mask, region in zip(masks, regions, strict=True):
        x, y = planner.area_centre(region.area)
        assert mask[int(y * SIDE / 64), int(x * SIDE / 64)] == 1, region
