"""What our picture models and their measurements share at run time and in training: the picture world's plain
background, its colour words, and pictures as tensors. Here, not in playground/training, because runtime code never
imports training code."""

import numpy as np
import torch
from PIL import Image

BACKGROUND = (240, 240, 240)  # plain light grey: white emoji keep their outline visible
# The colour words of our pictures' captions, and of the colours a picture is measured to show.
COLOUR_WORDS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "grey")


def pictures_tensor(pictures: list[Image.Image]) -> torch.Tensor:
    """PIL pictures of one size as a B x 3 x H x W tensor in [0, 1]."""
    return torch.from_numpy(np.stack([np.asarray(p.convert("RGB")) for p in pictures])).permute(0, 3, 1, 2).float() / 255
