"""The judge's checks as the Image tab and /judge_image give them: pictures judged against their prompt, the verdict
on one line, the note on words outside the vocabulary, and "What this model knows"."""

import re

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from playground import config
from playground.image import ImageSettings, planner
from playground.image.judge import (
    Check,
    Found,
    JudgeConfig,
    Seen,
    Verdict,
    check,
    judge_pictures,
    verdict_text,
    world_picture,
)
from playground.image.pictures import BACKGROUND
from playground.image.world import SIZE, read_prompt
from playground.training.emoji_styles import TRAINING_STYLES
from playground.ui import image as tab


def picture(size: int = SIZE, seed: int = 0) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def generated(prompt: str, backend: str = "diffusion", model: str = "", count: int = 2) -> tab.Generated:
    settings = ImageSettings(prompt, backend=backend, model=model, seed=5, num_images=count)
    pictures = [picture(32, seed) for seed in settings.seeds]
    return tab.Generated(pictures, [settings.for_image(s) for s in settings.seeds], [], [], settings.ours)


def test_a_verdict_reads_as_ticks_and_crosses_with_what_the_judge_saw_instead():
    verdict = Verdict((Check("apple", "object", True, ""), Check("blue apple", "colour", False, "red"),
                       Check("apple in the top left corner", "position", True, "")))
    assert verdict_text(verdict) == "✓ apple · ✗ blue apple (red) · ✓ apple in the top left corner"
    assert verdict_text(Verdict()) == ""


def test_what_the_judge_found_instead_of_an_object_names_each_kind_once_with_its_count():
    def at(name, x):
        return Found(name, 0.9, (x, 10, x + 8, 18), ("red",))

    def found_instead(*objects: Found) -> str:
        return check(read_prompt("a rocket"), Seen(objects, "noto", ("white",))).checks[0].found

    assert found_instead(at("cat", 2), at(None, 12), at("apple", 22), at(None, 32), at("apple", 42)) == \
        "found cat, 2 unnamed things and 2 apples"
    assert found_instead(at(None, 2)) == "found something unnamed"
    assert found_instead() == "found nothing"


def test_every_picture_gets_the_checks_of_its_prompt(tiny_judge):
    prompt = "two blue apples in the top left corner, on a pink background, flat style"
    verdicts = judge_pictures(prompt, [picture(seed=1), picture(seed=2), picture(seed=3)])
    assert len(verdicts) == 3
    for verdict in verdicts:
        assert [c.kind for c in verdict.checks] == ["count", "colour", "position", "background", "style"]
        assert verdict.honoured == sum(c.honoured for c in verdict.checks)
        assert all(c.found == "" for c in verdict.checks if c.honoured)
        assert all(c.found for c in verdict.checks if not c.honoured)


def test_a_smaller_picture_is_judged_as_its_pixels_enlarged_and_see_through_pixels_as_the_background(tiny_judge):
    small = picture(32)
    assert world_picture(small).tobytes() == small.resize((SIZE, SIZE), Image.Resampling.NEAREST).tobytes()
    assert world_picture(picture(200)).size == (SIZE, SIZE)
    prompt = "a red apple on a white background"
    assert judge_pictures(prompt, [small]) == judge_pictures(prompt, [world_picture(small)])
    see_through = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    assert world_picture(see_through).getpixel((3, 3)) == BACKGROUND
    assert judge_pictures(prompt, [see_through]) == judge_pictures(prompt, [Image.new("RGB", (SIZE, SIZE), BACKGROUND)])


@pytest.mark.parametrize(
    ("prompt", "pictures", "message"),
    [
        (5, [picture()], "prompt must be text, got a number"),
        ("  ", [picture()], "prompt must not be empty"),
        ("x" * (config.MAX_PROMPT_CHARS + 1), [picture()],
         f"prompt is too long: {config.MAX_PROMPT_CHARS + 1} characters, the limit is {config.MAX_PROMPT_CHARS}"),
        ("a cat", [], f"pictures must be a list of 1 to {config.MAX_NUM_IMAGES} pictures, got 0"),
        ("a cat", [picture()] * (config.MAX_NUM_IMAGES + 1),
         f"pictures must be a list of 1 to {config.MAX_NUM_IMAGES} pictures, got {config.MAX_NUM_IMAGES + 1}"),
        ("a cat", picture(), f"pictures must be a list of 1 to {config.MAX_NUM_IMAGES} pictures, got Image"),
        ("a cat", [picture(), "/etc/passwd"], "pictures must be pictures (PIL images), got str"),
    ],
)
def test_judging_refuses_bad_input_naming_the_parameter(prompt, pictures, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        judge_pictures(prompt, pictures)


def test_only_our_own_models_draw_the_world_the_judge_knows():
    assert ImageSettings(backend="gan").ours
    assert ImageSettings(backend="diffusion").ours
    assert ImageSettings(backend="diffusion", model=config.OWN_DIFFUSION_MODEL).ours
    assert not ImageSettings(backend="diffusion", model="stabilityai/sd-turbo").ours
    assert not ImageSettings("a cat", backend="openai", model="emoji-gan").ours


def test_the_tab_shows_each_pictures_checks_under_our_models_pictures(tiny_judge):
    shown = tab.show_checks(generated("a blue cat on the left"))
    lines = shown.split("\n\n")
    assert lines[0] == tab.CHECKS_HEADING
    assert lines[1].startswith("1. (seed 5) ") and lines[2].startswith("2. (seed 6) ")
    verdict = judge_pictures("a blue cat on the left", [picture(32, 5)])[0]
    assert lines[1] == f"1. (seed 5) {verdict_text(verdict)} — **{verdict.honoured} of 3**"


def test_hub_and_openai_pictures_are_not_judged_and_the_tab_says_why():
    assert tab.show_checks(generated("a cat", model="stabilityai/sd-turbo")) == tab.NOT_OURS
    assert tab.show_checks(generated("a cat", backend="openai")) == tab.NOT_OURS


def test_words_outside_the_vocabulary_get_a_visible_note_before_the_checks(tiny_judge):
    assert tab.vocabulary_note("a small blue cat in the top left corner") == ""
    assert tab.vocabulary_note("a skyscraper").startswith("⚠️ 'skyscraper' is not in this model's vocabulary")
    assert tab.vocabulary_note("a cute skyscraper").startswith(
        "⚠️ 'cute' and 'skyscraper' are not in this model's vocabulary")
    shown = tab.show_checks(generated("a skyscraper next to a cat")).split("\n\n")
    assert shown[0] == tab.vocabulary_note("a skyscraper") and shown[1] == tab.CHECKS_HEADING
    nothing = tab.show_checks(generated("a skyscraper")).split("\n\n")
    assert nothing[0] == tab.vocabulary_note("a skyscraper") and nothing[1].startswith("The prompt names nothing")


def test_the_layout_of_our_diffusion_models_pictures_of_several_objects_is_listed_before_their_checks(tiny_judge):
    prompt = "a blue heart above a red star"
    shown = tab.show_checks(generated(prompt)).split("\n\n")
    assert shown[0] == tab.layout_note(prompt) and shown[1] == tab.CHECKS_HEADING
    assert all(f"“{region.prompt}”" in shown[0] for region in planner.plan(prompt)) and len(planner.plan(prompt)) == 2
    assert tab.layout_note("a blue heart at the top") == ""
    assert tab.show_checks(generated(prompt, backend="gan")).split("\n\n")[0] == tab.CHECKS_HEADING


def test_a_random_picture_has_nothing_to_check():
    assert tab.show_checks(generated("")).startswith("A random picture")


def test_judging_an_upload_without_a_picture_is_refused_naming_image():
    with pytest.raises(gr.Error, match="image must be a picture uploaded to this app, got none"):
        tab.judge_image("a cat", None)


def test_what_this_model_knows_lists_the_styles_the_models_learn():
    assert JudgeConfig().styles == TRAINING_STYLES
    assert all(f'"{word} style"' in tab.VOCABULARY for word in ("noto", "flat", "black and white"))
    assert "outlined" not in tab.VOCABULARY  # OpenMoji: the judge's held-out style, never trained on


def test_the_guidance_examples_change_only_the_guidance_from_none_past_the_default():
    examples = tab.EXAMPLES["guidance"]
    assert len({(prompt, seed) for prompt, seed, _ in examples}) == 1
    scales = [scale for _, _, scale in examples]
    assert scales == sorted(set(scales)) and scales[0] == 1.0 and scales[-1] <= config.MAX_GUIDANCE_SCALE
    assert ImageSettings.guidance_scale in scales[1:-1]  # below it, the default, and beyond it


def test_the_examples_climb_a_ladder_of_detail_with_the_same_seed():
    examples = tab.EXAMPLES["detail"]
    ladders = [examples[i: i + 4] for i in range(0, len(examples), 4)]
    assert len(ladders) >= 2
    for ladder in ladders:
        assert len({seed for _, seed in ladder}) == 1
        requests = [read_prompt(prompt) for prompt, _ in ladder]
        assert all(r.unknown == () for r in requests)
        details = [len(check(r, Seen((), "noto", ("white",))).checks) for r in requests]  # asked, whatever is seen
        assert details == sorted(set(details)), f"{ladder}: {details} details"
