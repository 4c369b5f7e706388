"""A small CLIP-style scorer: how well a picture matches a prompt, and image features for a Fréchet distance.

An image encoder (a small CNN) and a text head (a projection of the MiniLM sentence embedding) map
pictures and prompts into one space, trained contrastively (playground.training.scorer) so that a
picture lands near its own captions. Adherence is the cosine similarity of the two, the CLIP score
idea at emoji scale. Pictures of any size are resized to the scorer's input size first.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from playground import config, registry
from playground.image.text_encoder import EMBEDDING_DIM
from playground.weights import load_weights, read_config, save_model


@dataclass
class ScorerConfig:
    image_size: int = 32  # pictures are resized to this before encoding
    width: int = 32  # channels of the first convolution; doubled at each halving of the size
    text_dim: int = EMBEDDING_DIM  # length of the prompt's sentence embedding
    embedding_dim: int = 128  # the shared space of pictures and prompts


class Scorer(nn.Module):
    def __init__(self, config: ScorerConfig):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        channels, size = 3, config.image_size
        width = config.width
        while size > 4:
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.GroupNorm(8, width), nn.GELU(),
                       nn.Conv2d(width, width, 3, stride=2, padding=1), nn.GroupNorm(8, width), nn.GELU()]
            channels, width, size = width, width * 2, size // 2
        self.image_features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.feature_dim = channels
        self.image_head = nn.Linear(channels, config.embedding_dim)
        self.text_head = nn.Sequential(nn.Linear(config.text_dim, 256), nn.GELU(), nn.Linear(256, config.embedding_dim))
        self.log_temperature = nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))

    def _resize(self, images: torch.Tensor) -> torch.Tensor:
        size = self.config.image_size
        if images.shape[-1] == size and images.shape[-2] == size:
            return images
        return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Pooled CNN features of pictures in [-1, 1] (B x 3 x H x W): what the Fréchet distance compares."""
        return self.image_features(self._resize(images))

    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_head(self.features(images)), dim=-1)

    def embed_text(self, sentence: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text_head(sentence), dim=-1)

    def logits(self, images: torch.Tensor, sentence: torch.Tensor) -> torch.Tensor:
        """Scaled similarities of every picture with every prompt (B_images x B_prompts), for training."""
        return self.log_temperature.exp() * self.embed_images(images) @ self.embed_text(sentence).T


@torch.no_grad()
def adherence(scorer: Scorer, images: torch.Tensor, sentence: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of each picture (in [0, 1]) with its prompt's sentence embedding (row by row)."""
    return (scorer.embed_images(images * 2 - 1) * scorer.embed_text(sentence)).sum(-1)


def save_scorer(scorer: Scorer, folder: Path) -> None:
    save_model(scorer, scorer.config, folder)


def load_scorer(folder: Path) -> Scorer:
    return load_weights(Scorer(ScorerConfig(**read_config(folder, "scorer"))), folder)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature rows (the FID formula)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    mean = np.sum((a.mean(0) - b.mean(0)) ** 2)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(values.clip(min=0))) @ vectors.T
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a).clip(min=0)
    return float(mean + np.trace(cov_a) + np.trace(cov_b) - 2 * np.sqrt(cross).sum())


def load_default_scorer() -> Scorer:
    """Our shipped scorer, loaded once."""
    return registry.load(("scorer", str(config.SCORER_MODEL_DIR)), lambda: load_scorer(config.SCORER_MODEL_DIR))
