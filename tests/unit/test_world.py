"""Reading prompts with the world's words (playground.image.world), and writing them back."""

import random

import pytest

from playground.image.world import (
    AREAS,
    BIG_FROM,
    OBJECTS,
    SIZE,
    SMALL_UP_TO,
    STYLE_WORDS,
    Asked,
    Request,
    area_of,
    describe,
    plural,
    read_prompt,
    relation_holds,
    relation_of,
    size_of,
)


def test_a_full_prompt_reads_into_every_detail_it_asks_for():
    request = read_prompt("two small red apples in the top left corner, on a blue background, flat style")
    assert request == Request((Asked("apple", 2, "red", "small", "top left"),), None, ("blue",), "fluent-flat")


def test_each_colour_stays_with_its_own_object():
    request = read_prompt("a blue heart and a red star")
    assert request.things == (Asked("heart", colour="blue"), Asked("star", colour="red"))


def test_a_relation_links_the_objects_on_either_side():
    assert read_prompt("an apple to the left of a cat").relation == (0, "left of", 1)
    assert read_prompt("a photo of a bus next to a tree").relation == (0, "next to", 1)
    assert read_prompt("3 bananas under a dog").things[0] == Asked("banana", 3)


def test_black_and_white_is_a_style_not_two_colours():
    request = read_prompt("a black and white dog")
    assert request.style == "fluent-high-contrast" and request.things == (Asked("dog"),)


def test_a_gradient_background_reads_top_colour_then_bottom():
    assert read_prompt("a cat on a gradient from blue to yellow").background == ("blue", "yellow")
    assert read_prompt("a cat on a blue to yellow gradient").background == ("blue", "yellow")


def test_a_place_before_the_first_object_belongs_to_it():
    assert read_prompt("in the middle, a big cat").things == (Asked("cat", size="big", area="centre"),)


def test_words_outside_the_vocabulary_are_reported():
    request = read_prompt("a skyscraper next to a car")
    assert request.unknown == ("skyscraper",) and request.things == (Asked("car"),)


def test_synonyms_and_plurals_name_the_same_object():
    assert read_prompt("an automobile").things == (Asked("car"),)
    assert read_prompt("four strawberries").things == (Asked("strawberry", 4),)
    assert read_prompt("two fish").things == (Asked("fish", 2),)


@pytest.mark.parametrize("name", list(OBJECTS))
def test_every_object_reads_back_alone_and_in_the_plural(name):
    assert read_prompt(f"a {name}").things == (Asked(name),)
    assert read_prompt(f"three {plural(name)}").things == (Asked(name, 3),)


def test_described_requests_read_back_as_themselves():
    rng = random.Random(0)
    requests = [
        Request((Asked("apple", 2, "red", "small", "top left"),), None, ("blue",), "fluent-flat"),
        Request((Asked("apple"), Asked("cat", size="big")), (0, "below", 1), ("blue", "yellow"), "fluent-high-contrast"),
        Request((Asked("car", area="top left"), Asked("bus", 1, "green", area="bottom"), Asked("light bulb", 3, "black"))),
    ] + [Request((Asked(name, colour="pink", area=area),), style=style)
         for name, area, style in zip(OBJECTS, AREAS * 9, list(STYLE_WORDS) * 12)]
    for request in requests:
        for _ in range(5):
            text = describe(request, rng)
            assert read_prompt(text) == request, text


def test_relations_are_judged_by_the_larger_offset():
    assert relation_of((10, 30), (40, 35)) == "left of"
    assert relation_of((40, 10), (38, 50)) == "above"
    assert relation_holds("next to", (50, 30), (20, 32))
    assert not relation_holds("next to", (20, 5), (22, 50))


def test_areas_and_sizes_cut_the_frame_in_thirds_and_the_sides_at_their_limits():
    assert area_of((1, 1)) == "top left" and area_of((SIZE / 2, SIZE / 2)) == "centre"
    assert area_of((SIZE - 1, SIZE - 1)) == "bottom right" and area_of((SIZE / 2, 2)) == "top"
    assert size_of(SMALL_UP_TO) == "small" and size_of(SMALL_UP_TO + 1) == "medium" and size_of(BIG_FROM) == "big"
