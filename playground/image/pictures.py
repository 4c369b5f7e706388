"""What our picture models and their measurements share at run time and in training: the picture world's plain
background, its colour words, and pictures as tensors. Here, not in playground/training, because runtime code never
imports training code."""

import numpy as np
import torch
from PIL import Image

BACKGROUND = (240, 240, 240)  # plain light grey: white emoji keep their outline visible
# The colour words of our pictures' captions, and of the colours a picture is measured to show.
COLOUR_WORDS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "grey")
# Colour words: each opaque pixel gets one word by the HSV rules in pixel_colours, and an
# emoji is described by the words that cover at least MIN_COLOUR_SHARE of its opaque pixels.
MIN_COLOUR_SHARE = 0.2
MAX_COLOURS = 2
OPAQUE_ALPHA = 128  # pixels below this alpha are anti-aliased edges or background, not colour


def pictures_tensor(pictures: list[Image.Image]) -> torch.Tensor:
    """PIL pictures of one size as a B x 3 x H x W tensor in [0, 1]."""
    return torch.from_numpy(np.stack([np.asarray(p.convert("RGB")) for p in pictures])).permute(0, 3, 1, 2).float() / 255


def pixel_colours(rgb: np.ndarray) -> np.ndarray:
    """Index into COLOUR_WORDS for each row of an (N, 3) uint8 array, by hue, saturation and value rules.

    The first matching rule wins. The thresholds were set on the Noto pictures whose names state
    their colour (the coloured hearts, circles and squares), and so that pale warm tones (a pig,
    light skin) read as pink, cream as yellow, and dark warm tones (medium and dark skin, wood) as brown.
    """
    rgb = rgb.astype(np.float32) / 255
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    value = rgb.max(axis=1)
    delta = value - rgb.min(axis=1)
    saturation = delta / np.maximum(value, 1e-6)
    safe = np.maximum(delta, 1e-6)
    hue = np.select(
        [value == r, value == g], [((g - b) / safe) % 6, (b - r) / safe + 2], (r - g) / safe + 4
    ) * 60  # degrees: 0 red, 60 yellow, 120 green, 240 blue
    reddish = (hue < 20) | (hue >= 345)
    warm = reddish | (hue < 45)
    pale = (saturation < 0.35) & (value >= 0.85)
    rules = [
        (value < 0.3, "black"),
        ((saturation < 0.15) & (value >= 0.85), "white"),
        ((saturation < 0.15) & (value < 0.4), "black"),
        (saturation < 0.15, "grey"),
        (pale & warm & (hue < 34), "pink"),  # pale peach: a pig, light skin
        (pale & (hue >= 34) & (hue < 68), "yellow"),  # cream: the inside of a banana
        (reddish & (saturation < 0.6) & (value >= 0.85), "pink"),  # light red
        (warm & (value < 0.75) & ~(reddish & (saturation >= 0.8)), "brown"),  # dark warm, but not deep red
        (reddish, "red"),
        (hue < 42, "orange"),
        (hue < 68, "yellow"),
        (hue < 165, "green"),
        (hue < 255, "blue"),
        (hue < 320, "purple"),
    ]
    indices = [COLOUR_WORDS.index(word) for _, word in rules]
    return np.select([rule for rule, _ in rules], indices, COLOUR_WORDS.index("pink"))


def colour_words(rgba: np.ndarray) -> list[str]:
    """Up to MAX_COLOURS colour words that each cover MIN_COLOUR_SHARE of the opaque pixels, most covering first.

    rgba is an H x W x 4 uint8 array. When no word reaches the share (a very colourful picture),
    the most covering one is returned alone; a fully transparent picture has no colour words.
    """
    opaque = rgba[..., :3][rgba[..., 3] >= OPAQUE_ALPHA]
    if len(opaque) == 0:
        return []
    shares = np.bincount(pixel_colours(opaque), minlength=len(COLOUR_WORDS)) / len(opaque)
    order = np.argsort(-shares, kind="stable")
    words = [COLOUR_WORDS[i] for i in order[:MAX_COLOURS] if shares[i] >= MIN_COLOUR_SHARE]
    return words or [COLOUR_WORDS[order[0]]]
