"""Our shipped image models (assets/models) through the app's own code: reproducible, and they follow colour words."""

import numpy as np
import pytest
from conftest import require
from PIL import Image

from playground import config
from playground.image import ImageSettings, generate_image
from playground.image.scorer import adherence, load_default_scorer
from playground.image.text_encoder import encode
from playground.image.pictures import pictures_tensor
from playground.training.evaluate_emoji import COLOUR_PROMPTS, picture_colours

pytestmark = pytest.mark.embedded
BACKENDS = {"gan": {}, "diffusion": {"num_inference_steps": 20}}
SEEDS = 6
MIN_COLOUR_SHARE = 0.5  # of the pictures for a colour prompt that must show that colour


@pytest.fixture(scope="module", autouse=True)
def shipped_models():
    for folder in (config.GAN_MODEL_DIR, config.DIFFUSION_MODEL_DIR, config.SCORER_MODEL_DIR):
        require(any(folder.glob("*.json")), f"the shipped model {folder.name} is missing")


def pictures(backend: str, prompt: str, seed: int = 0, num_images: int = SEEDS) -> list[Image.Image]:
    settings = ImageSettings(prompt, backend=backend, seed=seed, num_images=num_images, **BACKENDS[backend])
    return generate_image(settings).images


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_gives_the_same_pixels(backend):
    first, again = ([np.asarray(p) for p in pictures(backend, "a red apple", seed=9, num_images=2)] for _ in range(2))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], first[1])  # seed 9 and seed 10 differ


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("prompt", "colour"), COLOUR_PROMPTS.items())
def test_a_colour_in_the_prompt_comes_out_in_the_picture(backend, prompt, colour):
    found = [colour in picture_colours(np.asarray(p)) for p in pictures(backend, prompt)]
    assert sum(found) >= MIN_COLOUR_SHARE * len(found), f"{prompt!r}: {sum(found)} of {len(found)} pictures show {colour}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_scorer_prefers_the_prompt_a_picture_was_made_from(backend):
    prompts = list(COLOUR_PROMPTS)
    scorer = load_default_scorer()
    sentences = encode(prompts).sentence
    wins = 0
    for i, prompt in enumerate(prompts):
        made = pictures_tensor(pictures(backend, prompt, num_images=2))
        own = adherence(scorer, made, sentences[i].expand(len(made), -1)).mean()
        others = [adherence(scorer, made, sentences[j].expand(len(made), -1)).mean() for j in range(len(prompts)) if j != i]
        wins += own > max(others)
    assert wins >= len(prompts) - 1, f"the scorer picked the right prompt for {wins} of {len(prompts)}"
