"""The emoji dataset as the image trainers read it: images in [-1, 1] with their captions already encoded.

Every caption level is kept, so a batch mixes vague ("food") and detailed ("a red apple, fruit")
captions of the same picture. The frozen text encoder runs once per distinct caption; the results
are saved next to the split (text-encoding.pt) and reused by every trainer and every resume.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from playground.image.text_encoder import MAX_TOKENS, encode
from playground.training.emoji_data import EmojiRecord, load_split

ENCODE_BATCH = 256
MAX_SHIFT = 4  # pixels of random translation in shift()
CACHE_FILE = "text-encoding.pt"


@dataclass
class CaptionedImages:
    images: torch.Tensor  # N x 3 x S x S, float in [-1, 1]
    records: list[EmojiRecord]
    caption_ids: torch.Tensor  # N x levels, index into the caption tables below
    captions: list[str]  # distinct captions; "" (the unconditional prompt) is always index 0
    token_states: torch.Tensor  # C x MAX_TOKENS x 384, float16
    attention_mask: torch.Tensor  # C x MAX_TOKENS
    sentence: torch.Tensor  # C x 384

    def sample(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A random batch: image rows and, for each, the caption id of a random detail level."""
        rows = torch.randint(len(self.images), (batch_size,), generator=generator)
        levels = torch.randint(self.caption_ids.shape[1], (batch_size,), generator=generator)
        return rows, self.caption_ids[rows, levels]


def _encode_all(captions: list[str]) -> dict[str, torch.Tensor]:
    parts = [encode(captions[i : i + ENCODE_BATCH]) for i in range(0, len(captions), ENCODE_BATCH)]
    return {
        "token_states": torch.cat([p.token_states for p in parts]).half(),
        "attention_mask": torch.cat([p.attention_mask for p in parts]).to(torch.uint8),
        "sentence": torch.cat([p.sentence for p in parts]),
    }


def load_captioned(folder: Path | str, split: str) -> CaptionedImages:
    """A split of the dataset written by playground.training.emoji_data, with encoded captions."""
    data = load_split(folder, split)
    captions = [""] + sorted({c for r in data.records for c in r.captions})
    index = {c: i for i, c in enumerate(captions)}
    cache = Path(folder) / split / CACHE_FILE
    encoded = torch.load(cache, weights_only=True) if cache.is_file() else None
    if encoded is None or encoded["captions"] != captions or encoded["token_states"].shape[1] != MAX_TOKENS:
        encoded = {"captions": captions, **_encode_all(captions)}
        torch.save(encoded, cache)
    images = torch.from_numpy(np.ascontiguousarray(data.images)).permute(0, 3, 1, 2).float() / 127.5 - 1
    return CaptionedImages(
        images=images,
        records=data.records,
        caption_ids=torch.tensor([[index[c] for c in r.captions] for r in data.records]),
        captions=captions,
        token_states=encoded["token_states"],
        attention_mask=encoded["attention_mask"].long(),
        sentence=encoded["sentence"],
    )


def shift(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Translate each picture by up to MAX_SHIFT pixels, filling with the edge colour (differentiable augmentation)."""
    padded = F.pad(images, [MAX_SHIFT] * 4, mode="replicate")
    size = images.shape[-1]
    dx, dy = torch.randint(2 * MAX_SHIFT + 1, (2, len(images)), generator=generator).tolist()
    return torch.stack([p[:, y : y + size, x : x + size] for p, x, y in zip(padded, dx, dy)])
