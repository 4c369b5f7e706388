"""The Compare tab's scores on our shipped image models and the embedded text model, and its command line."""

import numpy as np
import pytest
from conftest import require
from test_cli import run_cli

from playground import compare, config, text
from playground.compare import CompareSettings
from playground.image import ImageSettings, generate_image, metadata
from playground.text.sampling import SamplingSettings

pytestmark = pytest.mark.embedded
# vague → detailed pairs in our models' vocabulary (assets/examples/image.json)
PAIRS = [("food", "a red apple"), ("heart", "a blue heart"), ("smiley", "a yellow smiling face with heart-eyes")]
SEEDS = 6


@pytest.fixture(scope="module", autouse=True)
def shipped_models(one_torch_thread):
    for folder in (config.GAN_MODEL_DIR, config.DIFFUSION_MODEL_DIR, config.SCORER_MODEL_DIR):
        require(any(folder.glob("*.json")), f"the shipped model {folder.name} is missing")


@pytest.fixture(scope="module", params=["gan", "diffusion"])
def comparisons(request) -> list[compare.Comparison]:
    settings = CompareSettings(backend=request.param, seed=0, num_seeds=SEEDS)
    return [compare.compare_prompts(list(pair), settings) for pair in PAIRS]


def test_a_detailed_prompt_adheres_better_than_its_vague_version_across_seeds(comparisons):
    for comparison in comparisons:
        vague, detailed = comparison.columns
        assert comparison.reference == detailed.prompt
        assert detailed.specificity.score > vague.specificity.score
        assert detailed.mean_adherence > vague.mean_adherence, (
            f"{comparison.settings.backend}: {vague.prompt!r} {vague.mean_adherence:.3f} vs "
            f"{detailed.prompt!r} {detailed.mean_adherence:.3f}"
        )


def test_a_vague_prompt_varies_more_across_seeds_than_a_detailed_one(comparisons):
    for comparison in comparisons:
        vague, detailed = comparison.columns
        assert vague.diversity > detailed.diversity, f"{vague.prompt!r} {vague.diversity:.3f} vs {detailed.diversity:.3f}"


def test_every_picture_carries_the_settings_that_remake_it_in_the_image_tab(comparisons):
    comparison = comparisons[0]
    files = compare.save_pictures(comparison)
    column = comparison.columns[1]
    stored = [metadata.read_settings(f) for f in files[1]]
    assert [s["seed"] for s in stored] == comparison.settings.seeds and stored[0]["prompt"] == column.prompt
    remade = generate_image(ImageSettings(**stored[2])).images[0]
    # a batch of several prompts rounds a little differently than one picture alone (diffusion: at most 1 level)
    difference = np.abs(np.asarray(remade, dtype=int) - np.asarray(column.results[2], dtype=int)).max()
    assert difference <= (0 if comparison.settings.backend == "gan" else 2)


@pytest.mark.parametrize("backend", ["gan", "diffusion"])
def test_taking_the_colour_out_of_a_prompt_costs_adherence(backend):
    full, effects = compare.words_that_mattered("a red apple", CompareSettings(backend=backend, num_seeds=4))
    assert [(e.phrase, e.prompt) for e in effects] == [("red", "an apple")]
    assert effects[0].drop > 0.05 and effects[0].adherence == pytest.approx(full - effects[0].drop)


def test_text_columns_are_the_backends_own_texts_with_the_same_seeds(embedded_model):
    settings = CompareSettings("text", "local", seed=4, num_seeds=2, max_new_tokens=16)
    comparison = compare.compare_prompts(["Write a poem.", "Write a four-line poem about rain on a window."], settings)
    alone = text.stream_text("Write a poem.", "local", embedded_model, "", SamplingSettings(0.7, max_new_tokens=16, seed=5))
    assert comparison.columns[0].results[1] == alone.text()
    assert all(-1 <= a <= 1 for column in comparison.columns for a in column.adherence)
    assert comparison.reference == "Write a four-line poem about rain on a window."


def test_at_temperature_zero_every_seed_writes_the_same_text_so_distinct_n_is_lowest(embedded_model):
    settings = CompareSettings("text", "local", num_seeds=3, max_new_tokens=16)
    rows = compare.temperature_sweep("Name a colour.", [0, 1.3], settings)
    assert len(set(rows[0].texts)) == 1 and len(set(rows[1].texts)) == 3
    assert rows[0].distinct_2 < rows[1].distinct_2


def test_make_it_detailed_writes_a_more_specific_prompt_with_the_local_model(embedded_model):
    for vague in ("a face", "a cat"):
        detailed = compare.expand_prompt(vague, "image", "local")
        assert compare.specificity(detailed).score > compare.specificity(vague).score, detailed
        assert any(kind == "added" for _, kind in compare.word_diff(vague, detailed))
    assert compare.expand_prompt("a face") == compare.expand_prompt("a face")  # greedy: the same every time


def test_cli_compare_prints_the_scores_and_writes_the_sheet_and_json(tmp_path):
    out = tmp_path / "sheet.png"
    result = run_cli("compare", "a face", "a smiling yellow face with heart-shaped eyes", "--modality", "image",
                     "--backend", "gan", "--seed", "1", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "specificity 5 (expression: smiling; colour: yellow; subject: face, eyes; shape: heart-shaped)" in result.stdout
    assert result.stdout.split()[-2:] == [str(out), str(tmp_path / "sheet.json")]
    assert metadata.read_settings(out)["seeds"] == [1, 2, 3, 4]


def test_cli_compare_bad_input_prints_the_message_and_exits_2(tmp_path):
    result = run_cli("compare", "a face", "--backend", "gan", "-o", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert result.stderr.strip() == "error: prompts must hold between 2 and 4 prompts, got 1"
    assert not (tmp_path / "x.png").exists()
