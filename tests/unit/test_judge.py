"""The judge (playground.image.judge): its checks, its reading of colours, and the shipped detector on real and bad pictures."""

import random

import numpy as np
import pytest
import torch

from playground import config
from playground.image.judge import Found, Judge, JudgeConfig, Seen, check, load_judge, look, save_judge
from playground.image.world import BIG_FROM, COLOUR_RGB, OBJECTS, SIZE, STYLE_WORDS, Asked, Request, read_prompt


def found(name, centre, side=20, colours=("red",), confidence=0.9):
    x, y = centre
    return Found(name, confidence, (x - side / 2, y - side / 2, x + side / 2, y + side / 2), colours)


def test_every_detail_of_a_prompt_is_checked_and_a_missing_one_says_what_was_seen():
    seen = Seen((found("apple", (10, 10), colours=("blue",)), found("apple", (40, 12), colours=("blue",)),
                 found("cat", (30, 50), side=BIG_FROM + 2, colours=("orange",))), "fluent-flat", ("white",))
    verdict = check(read_prompt("two blue apples above a big cat, on a white background, flat style"), seen)
    assert [c.kind for c in verdict.checks] == ["count", "colour", "object", "size", "relation", "background", "style"]
    assert verdict.all_honoured and verdict.honoured == len(verdict.checks)

    wrong = check(read_prompt("three red apples in noto style on a blue background"), seen)
    assert not any(c.honoured for c in wrong.checks)
    assert [c.found for c in wrong.checks] == ["found 2", "blue", "white", STYLE_WORDS["fluent-flat"]]


def test_an_object_not_found_is_not_honoured_and_neither_are_its_details():
    seen = Seen((found(None, (32, 32), confidence=0.2),), "noto", ("white",))
    verdict = check(Request((Asked("rocket", colour="red", area="centre"),)), seen)
    assert [c.honoured for c in verdict.checks] == [False, False, False]
    assert verdict.checks[0].found == "found something unnamed"


def test_a_relation_needs_both_objects_placed_that_way():
    seen = Seen((found("cat", (50, 30)), found("key", (10, 30))), "noto", ("white",))
    assert not check(read_prompt("a cat to the left of a key"), seen).all_honoured
    assert check(read_prompt("a cat to the right of a key"), seen).all_honoured
    assert check(read_prompt("a cat next to a key"), seen).all_honoured


def test_a_gradient_is_read_top_colour_first():
    seen = Seen((), "noto", ("blue", "yellow"))
    assert check(Request(background=("blue", "yellow")), seen).all_honoured
    assert not check(Request(background=("yellow", "blue")), seen).all_honoured


def test_a_judge_saved_loads_through_the_real_code_and_reads_the_background_by_the_colour_rule(tmp_path):
    torch.manual_seed(0)
    judge = Judge(JudgeConfig(width=8))
    save_judge(judge, tmp_path)
    loaded = load_judge(tmp_path)
    assert loaded.config == judge.config
    blue = torch.tensor(COLOUR_RGB["blue"], dtype=torch.float32)[:, None, None].expand(3, SIZE, SIZE) / 255
    top_green = blue.clone()
    top_green[:, :8] = torch.tensor(COLOUR_RGB["green"], dtype=torch.float32)[:, None, None] / 255
    seen = look(loaded, torch.stack([blue, top_green]))
    assert seen[0].background == ("blue",) and seen[1].background == ("green", "blue")
