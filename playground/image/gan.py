"""Our conditional GAN: a generator that paints a 32 px emoji-like picture from noise and a sentence embedding.

Seed text 000's two players: the generator turns random noise (plus the prompt's MiniLM sentence
embedding) into a picture; the discriminator (used only in training) looks at a picture and the
prompt and says how real and how matching the pair looks. They are trained against each other
(playground.training.gan); only the generator ships. The prompt enters the generator through
conditional batch norm (every block's scale and shift depend on it), and the discriminator through
a projection (its score includes the dot product of the prompt's embedding with its image features).
"""

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import torch
from PIL import Image
from torch import nn
from torch.nn.utils import spectral_norm

from playground import config, registry
from playground.image.text_encoder import EMBEDDING_DIM, encode
from playground.weights import load_weights, read_config, save_model


@dataclass
class GANConfig:
    image_size: int = 32  # output pixels per side; 4 x 2**blocks
    noise_dim: int = 128  # length of the random vector z
    text_dim: int = EMBEDDING_DIM  # length of the prompt's sentence embedding
    condition_dim: int = 128  # the prompt embedding is projected to this before it conditions the blocks
    width: int = 32  # generator channels at full resolution; doubled at each halving of the size


class ConditionalNorm(nn.Module):
    """Batch norm whose scale and shift are computed from the condition vector."""

    def __init__(self, channels: int, condition_dim: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.scale_shift = nn.Linear(condition_dim, 2 * channels)
        nn.init.zeros_(self.scale_shift.weight)
        nn.init.zeros_(self.scale_shift.bias)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        scale, shift = self.scale_shift(condition)[..., None, None].chunk(2, dim=1)
        return self.norm(x) * (1 + scale) + shift


class UpBlock(nn.Module):
    """Double the size: norm, ReLU, nearest upsampling, 3 x 3 convolution."""

    def __init__(self, channels_in: int, channels_out: int, condition_dim: int):
        super().__init__()
        self.norm = ConditionalNorm(channels_in, condition_dim)
        self.conv = nn.Conv2d(channels_in, channels_out, 3, padding=1)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(torch.relu(self.norm(x, condition)), scale_factor=2, mode="nearest")
        return self.conv(x)


def _blocks(config: GANConfig) -> int:
    blocks = (config.image_size // 4).bit_length() - 1
    if config.image_size < 4 or 4 * 2**blocks != config.image_size:
        raise ValueError(f"image_size must be 4 times a power of two, got {config.image_size}")
    return blocks


class Generator(nn.Module):
    def __init__(self, config: GANConfig):
        super().__init__()
        self.config = config
        blocks = _blocks(config)
        widths = [config.width * 2 ** (blocks - i) for i in range(blocks + 1)]  # e.g. 256, 128, 64, 32... at 4 px
        self.condition = nn.Sequential(nn.Linear(config.text_dim, config.condition_dim), nn.ReLU())
        self.start = nn.Linear(config.noise_dim + config.condition_dim, widths[0] * 16)
        self.blocks = nn.ModuleList(UpBlock(a, b, config.condition_dim) for a, b in pairwise(widths))
        self.out_norm = ConditionalNorm(widths[-1], config.condition_dim)
        self.out = nn.Conv2d(widths[-1], 3, 3, padding=1)

    def forward(self, noise: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Pictures in [-1, 1] (B x 3 x S x S) from noise (B x noise_dim) and sentence embeddings (B x text_dim)."""
        condition = self.condition(text)
        x = self.start(torch.cat([noise, condition], dim=1)).view(len(noise), -1, 4, 4)
        for block in self.blocks:
            x = block(x, condition)
        return torch.tanh(self.out(torch.relu(self.out_norm(x, condition))))


class Discriminator(nn.Module):
    """Real-and-matching score of (picture, prompt) pairs: spectral-norm convolutions and a projection."""

    def __init__(self, config: GANConfig):
        super().__init__()
        blocks = _blocks(config)
        widths = [3] + [config.width * 2**i for i in range(blocks + 1)]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(pairwise(widths)):
            layers += [spectral_norm(nn.Conv2d(a, b, 3, padding=1)), nn.LeakyReLU(0.2)]
            if i < blocks:
                layers += [spectral_norm(nn.Conv2d(b, b, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
        self.features = nn.Sequential(*layers)
        self.score = spectral_norm(nn.Linear(widths[-1], 1))
        self.project = spectral_norm(nn.Linear(config.text_dim, widths[-1]))

    def forward(self, images: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        h = self.features(images).sum(dim=(2, 3))
        return self.score(h).squeeze(1) + (self.project(text) * h).sum(1)


def save_generator(generator: Generator, folder: Path) -> None:
    """config.json + model.safetensors, the folder load_generator reads."""
    save_model(generator, generator.config, folder)


def load_generator(folder: Path) -> Generator:
    """A generator saved by save_generator, ready to sample."""
    return load_weights(Generator(GANConfig(**read_config(folder, "GAN"))), folder)


@torch.no_grad()
def generate(generator: Generator, text: torch.Tensor, seeds: list[int]) -> torch.Tensor:
    """One picture in [0, 1] per (sentence embedding, seed) row: the same seed always gives the same picture."""
    noise = torch.stack([torch.randn(generator.config.noise_dim, generator=torch.Generator().manual_seed(s)) for s in seeds])
    return (generator(noise, text.to(noise.dtype)) / 2 + 0.5).clamp(0, 1)


def load_gan() -> Generator:
    """Our shipped generator, loaded once."""
    return registry.load(("gan", str(config.GAN_MODEL_DIR)), lambda: load_generator(config.GAN_MODEL_DIR))


def generate_pictures(prompts: list[str], seeds: list[int], generator: Generator | None = None) -> list[Image.Image]:
    """One picture per (prompt, seed) pair (prompt "" for a random picture), by our shipped generator unless another
    is given (an evaluation of one in training)."""
    pictures = generate(load_gan() if generator is None else generator, encode(prompts).sentence, seeds)
    pixels = pictures.permute(0, 2, 3, 1).mul(255).round().to(torch.uint8).numpy()
    return [Image.fromarray(p) for p in pixels]
