"""The Compare tab's rules without models: specificity, detail phrases, the diff, the measures, the limits, the export."""

import json
import math

import pytest
import torch
from PIL import Image

from playground import compare
from playground.compare import Column, CompareSettings, Comparison
from playground.image import metadata


@pytest.mark.parametrize(
    ("prompt", "score", "words"),
    [
        ("a face", 1, {"subject": ["face"]}),
        ("a smiling yellow face with heart-shaped eyes", 5,
         {"expression": ["smiling"], "colour": ["yellow"], "subject": ["face", "eyes"], "shape": ["heart-shaped"]}),
        ("two small red apples on a wooden plate, watercolour", 8,
         {"count": ["two"], "size": ["small"], "colour": ["red"], "subject": ["apples", "plate"],
          "composition": ["on"], "material": ["wooden"], "style": ["watercolour"]}),
        ("Write a four-line rhyming poem about rain", 4,
         {"count": ["four-line"], "style": ["rhyming"], "subject": ["poem", "rain"]}),
        ("a nice thing", 0, {}),
    ],
)
def test_specificity_counts_the_details_of_written_examples_by_category(prompt, score, words):
    found = compare.specificity(prompt)
    assert found.score == score
    assert found.by_category() == words


def test_vague_words_are_shown_as_not_counted_and_stop_words_are_skipped():
    found = compare.specificity("a really beautiful thing with a hat")
    assert found.not_counted == ["really", "beautiful", "thing"]
    assert found.words == [("hat", "subject")]


def test_the_most_detailed_prompt_is_the_reference_and_a_tie_goes_to_the_later_column():
    assert compare.most_detailed(["a red apple", "food", "apple"]) == "a red apple"
    assert compare.most_detailed(["a red apple", "a green apple"]) == "a green apple"


@pytest.mark.parametrize(
    ("prompt", "details"),
    [
        ("a smiling yellow face with heart-shaped eyes",
         [("smiling", "a yellow face with heart-shaped eyes"), ("yellow", "a smiling face with heart-shaped eyes"),
          ("with heart-shaped eyes", "a smiling yellow face")]),
        ("a yellow banana, fruit", [("yellow", "a banana, fruit"), (", fruit", "a yellow banana")]),
        ("an orange cat", [("orange", "a cat")]),
        ("a red apple to the left of a blue heart",
         [("red", "an apple to the left of a blue heart"), ("to the left of a blue heart", "a red apple")]),
        ("a cat, on a blue background, flat style",
         [("on a blue background", "a cat, flat style"), (", flat style", "a cat, on a blue background")]),
        ("Write a short poem about rain, in a calm tone.",
         [("short", "Write a poem about rain, in a calm tone."), ("about rain", "Write a short poem, in a calm tone."),
          ("in a calm tone", "Write a short poem about rain.")]),
        ("a face", []),
    ],
)
def test_detail_phrases_drop_one_detail_at_a_time_and_keep_the_subject(prompt, details):
    assert compare.detail_phrases(prompt) == details


def test_the_word_diff_marks_the_added_and_the_removed_words():
    assert compare.word_diff("a face", "a smiling yellow face with heart-shaped eyes") == [
        ("a ", None), ("smiling ", "added"), ("yellow ", "added"), ("face ", None), ("with ", "added"),
        ("heart-shaped ", "added"), ("eyes ", "added"),
    ]
    assert compare.word_diff("food", "a red apple") == [("food ", "removed"), ("a ", "added"), ("red ", "added"), ("apple ", "added")]


def test_distinct_n_is_one_without_repeats_and_falls_when_texts_repeat():
    assert compare.distinct_n(["the cat sat", "a dog ran"], 1) == 1.0
    assert compare.distinct_n(["the cat sat", "the cat sat"], 2) == 0.5
    assert compare.distinct_n(["", "one"], 2) == 0.0


def test_diversity_is_the_mean_pairwise_cosine_distance():
    x, y = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert compare.mean_pairwise_distance(torch.stack([x, x, y])) == pytest.approx(2 / 3)
    assert compare.mean_pairwise_distance(torch.stack([x, x])) == 0.0
    assert compare.mean_pairwise_distance(x[None]) is None


@pytest.mark.parametrize(
    ("prompts", "message"),
    [
        (["a face"], "prompts must hold between 2 and 4 prompts, got 1"),
        (["a", "b", "c", "d", "e"], "prompts must hold between 2 and 4 prompts, got 5"),
        (["a face", "  "], "prompts[1] must not be empty"),
        (["a face", "x" * 1001], "prompts[1] is too long: 1001 characters, the limit is 1000"),
        ("a face", "prompts must be a list of 2 to 4 strings, got str"),
        (["a face", 3], "prompts[1] must be text, got a number"),
    ],
)
def test_bad_prompts_are_refused_with_the_parameter_and_the_limit(prompts, message):
    with pytest.raises(ValueError, match=f"^{message.replace('[', '.').replace(']', '.')}$"):
        compare.compare_prompts(prompts, CompareSettings(backend="gan"))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"num_seeds": 0}, "num_seeds must be between 1 and 8, got 0"),
        ({"num_seeds": 9}, "num_seeds must be between 1 and 8, got 9"),
        ({"num_seeds": math.nan}, "num_seeds must be a finite number between 1 and 8, got nan"),
        ({"modality": "video"}, "modality must be one of 'image', 'text', got 'video'"),
        ({"modality": "text", "backend": "gan"}, "backend must be one of 'local', 'openai' for the text modality, got 'gan'"),
        ({"guidance_scale": math.inf}, "guidance_scale must be a finite number between 0 and 30, got inf"),
        ({"modality": "text", "backend": "local", "temperature": math.nan}, "temperature must be a finite number"),
        ({"seed": -1}, "seed must be between 0 and 4294967295, got -1"),
    ],
)
def test_bad_settings_are_refused_with_the_parameter_and_the_allowed_range(settings, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        CompareSettings(**settings)


def test_the_work_of_one_comparison_is_capped_and_the_error_states_the_cap():
    settings = CompareSettings(num_seeds=8, num_inference_steps=200)
    with pytest.raises(ValueError, match=r"4 prompts × 8 seeds × 200 num_inference_steps = 6400, the limit is 3200"):
        compare.compare_prompts(["a", "b", "c", "d"], settings)
    text = CompareSettings("text", "local", num_seeds=8, max_new_tokens=1000)
    with pytest.raises(ValueError, match=r"2 prompts × 8 seeds × 1000 max_new_tokens = 16000, the limit is 3200"):
        compare.compare_prompts(["a", "b"], text)
    with pytest.raises(ValueError, match=r"3 temperatures × 8 seeds × 1000 max_new_tokens"):
        compare.temperature_sweep("a", [0, 1, 2], text)


@pytest.mark.parametrize(
    ("temperatures", "message"),
    [
        ([], "temperatures must be a list of 1 to 5 numbers, got []"),
        ([0, 0.5, 1, 1.5, 2, 2], "temperatures must be a list of 1 to 5 numbers"),
        ([0, math.nan], "temperature must be a finite number between 0 and 2, got nan"),
        ([3], "temperature must be between 0 and 2, got 3"),
    ],
)
def test_bad_temperatures_are_refused_before_anything_runs(temperatures, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        compare.temperature_sweep("a", temperatures, CompareSettings("text", "local"))


def test_the_sweep_and_the_expansion_refuse_what_they_cannot_do():
    with pytest.raises(ValueError, match="the temperature sweep is for text: modality must be 'text', got 'image'"):
        compare.temperature_sweep("a", [0], CompareSettings())
    with pytest.raises(ValueError, match="backend must be one of 'local', 'openai', got 'gan'"):
        compare.expand_prompt("a face", "image", "gan")
    with pytest.raises(ValueError, match="prompt 'a face' states no detail to take out"):
        compare.words_that_mattered("a face", CompareSettings(backend="gan"))


def test_the_export_is_a_png_sheet_carrying_the_settings_marked_ai_generated_and_a_json_report(tmp_path):
    settings = CompareSettings(backend="gan", seed=3, num_seeds=2)
    pictures = [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue")]
    columns = [Column(p, pictures, compare.specificity(p), [0.2, 0.3], 0.1) for p in ("food", "a red apple")]
    sheet, report = compare.export(Comparison(settings, "a red apple", columns), sheet=tmp_path / "sheet.png")
    stored = metadata.read_settings(sheet)
    assert stored == {"modality": "image", "backend": "gan", "model": "emoji-gan", "seeds": [3, 4], "prompts": ["food", "a red apple"]}
    with Image.open(sheet) as png:
        assert png.text["ai_generated"] == "true" and "trainedAlgorithmicMedia" in png.text["XML:com.adobe.xmp"]
        assert png.width >= 2 * 4 * 64  # two columns of up to four 64 px pictures
    data = json.loads(report.read_text())
    assert report == tmp_path / "sheet.json" and data["reference_prompt"] == "a red apple"
    assert [c["specificity"]["score"] for c in data["columns"]] == [1, 2]
    assert data["columns"][1]["adherence"] == 0.25 and data["columns"][1]["diversity"] == 0.1

