"""The 32 px emoji models' measures, as their model cards give them (the world's benchmark is playground.training.evaluate).

    python -m playground.training.evaluate_emoji [--data DIR] [--limit N] [--json FILE]

For every held-out picture, each model makes one picture from the same caption (detail level 2,
"a red apple"; seed = the picture's index). The scorer then gives:
- Fréchet distance between the scorer features of generated and real held-out pictures (lower is closer);
- adherence (scorer cosine) of generated pictures to their captions, next to the real pictures'
  adherence to their own captions (the upper bound) and to shuffled captions (the lower bound);
- for the colour prompts, the share of pictures whose dominant colours include the named one.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from playground import config
from playground.image import ImageSettings, generate_batch, generate_image
from playground.image.scorer import adherence, frechet_distance, load_default_scorer
from playground.image.text_encoder import encode
from playground.training.captioned import load_captioned
from playground.image.pictures import BACKGROUND, colour_words, pictures_tensor

CAPTION_LEVEL = 2  # "a red apple": colour words and name
COLOUR_PROMPTS = {"a red apple": "red", "a green apple": "green", "a blue heart": "blue", "a yellow banana": "yellow"}
COLOUR_SAMPLES = 8  # pictures per colour prompt
BACKGROUND_TOLERANCE = 24  # pixels this close to the background colour (per channel) are background


def picture_colours(picture: np.ndarray) -> list[str]:
    """Dominant colour words of an RGB picture on our plain background (the background is ignored)."""
    background = np.abs(picture.astype(int) - np.array(BACKGROUND)).max(axis=-1) <= BACKGROUND_TOLERANCE
    alpha = np.where(background, 0, 255).astype(np.uint8)
    return colour_words(np.dstack([picture, alpha]))


def generate_for(settings: ImageSettings, captions: list[str]) -> torch.Tensor:
    """One picture per caption (seed = its index), as a B x 3 x S x S tensor in [0, 1]."""
    return pictures_tensor(generate_batch(settings, captions, list(range(len(captions)))))


def evaluate(settings: ImageSettings, data: Path, limit: int | None = None) -> dict:
    """The metrics above for one backend's settings (the prompt and seed are set per picture)."""
    heldout = load_captioned(data, "heldout")
    rows = range(len(heldout.images) if limit is None else min(limit, len(heldout.images)))
    captions = [heldout.records[i].captions[CAPTION_LEVEL] for i in rows]
    real = heldout.images[list(rows)] / 2 + 0.5
    scorer = load_default_scorer()
    sentence = encode(captions).sentence
    start = time.perf_counter()
    generated = generate_for(settings, captions)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        fd = frechet_distance(scorer.features(generated * 2 - 1).numpy(), scorer.features(real * 2 - 1).numpy())
    shuffled = sentence.roll(1, dims=0)
    scores = {
        "pictures": len(captions),
        "seconds_per_picture": seconds / len(captions),
        "frechet_distance": fd,
        "adherence_generated": adherence(scorer, generated, sentence).mean().item(),
        "adherence_real": adherence(scorer, real, sentence).mean().item(),
        "adherence_shuffled": adherence(scorer, real, shuffled).mean().item(),
    }
    scores["adherence_ratio"] = scores["adherence_generated"] / scores["adherence_real"]
    colours = {}
    for prompt, colour in COLOUR_PROMPTS.items():
        batch = ImageSettings(**{**settings.__dict__, "prompt": prompt, "seed": 0, "num_images": COLOUR_SAMPLES})
        found = [colour in picture_colours(np.asarray(p)) for p in generate_image(batch).images]
        colours[prompt] = sum(found) / len(found)
    scores["colour_prompts"] = colours
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.training.evaluate_emoji", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=config.CACHE_DIR / "data" / "emoji-32")
    parser.add_argument("--limit", type=int, default=None, help="only the first N held-out pictures")
    parser.add_argument("--backends", default="gan,diffusion")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    results = {backend: evaluate(ImageSettings(backend=backend), args.data, args.limit) for backend in args.backends.split(",")}
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
