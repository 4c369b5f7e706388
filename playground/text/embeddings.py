"""Words as vectors: the rows of a local model's input embedding matrix, the first thing the model does to a token.

Every token of the vocabulary has a row of numbers (576 for SmolLM2-135M). Training moves the rows of tokens used
in similar contexts close together, so the direction of a row says something about how a word is used. Two views:

* `nearest_tokens`: the tokens whose rows point most nearly the same way as a word's (cosine similarity).
* `embedding_map`: a handful of words on a 2-D map, their vectors projected on the two directions along which they
  differ most (PCA), with the share of their differences those two directions keep.

A word is read as the model reads it inside a sentence, after a space (most word tokens of a byte-level BPE such as
SmolLM2's start with one); a token that is only that space is left out. A word of several tokens is the mean of its
tokens' rows. The neighbours are tokens that read as whole words: letters after a leading space when the word's own
first token has one (so " cat" finds " dog", " cats", " feline" rather than "cat" inside "concatenate"), letters alone
when it has none (word-level vocabularies). On SmolLM2 this keeps the lists to real words: for "Paris" London,
France, Berlin; for "seven" eight, six, nine; taking every token instead fills them with spellings of the word itself
("Paris", "Cat", "cat").

Local models only: an OpenAI-compatible server does not expose the input embeddings of its chat model.
"""

import re
import weakref
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from playground import config
from playground.text import chosen_model, fast_llama, local
from playground.validation import check_int, check_text, json_type

# Rows converted to float32 at a time: the chunk stays in the CPU cache, which makes the scan ~2x faster than one
# float32 copy of the matrix (113 MB for SmolLM2's bf16 rows) and exact, unlike a bf16 matrix product.
CHUNK_ROWS = 4096


@dataclass
class Neighbour:
    """One token near a word in the embedding space."""

    token: str  # the token as the tokenizer writes it; a leading space marks the start of a word
    cosine: float  # cosine similarity with the word's vector: 1 = the same direction, 0 = unrelated


@dataclass
class NearestTokens:
    """The tokens nearest a word, most similar first."""

    word: str
    tokens: list[str]  # the tokens the word became; the word's vector is the mean of their rows
    neighbours: list[Neighbour]


@dataclass
class EmbeddingMap:
    """Words projected from the embedding space onto the plane that keeps most of their differences (PCA)."""

    model: str  # the model whose embeddings these are
    words: list[str]
    tokens: list[list[str]]  # the tokens each word became
    points: list[tuple[float, float]]  # each word's coordinates along the two axes
    explained: tuple[float, float]  # the share (0-1) of the words' variance along each axis: the rest is not shown
    dimensions: int  # the length of each vector before the projection


@dataclass
class _Vocabulary:
    """What a nearest-token search needs besides the matrix itself, computed once per loaded model."""

    texts: list[str]  # each token as the tokenizer writes it
    inverse_norms: torch.Tensor  # 1 / the length of each row, float32
    word_starts: torch.Tensor  # bool per token: a space, then letters only
    bare_words: torch.Tensor  # bool per token: letters only


# Keyed by the loaded model object (compared by identity), so an entry goes when its model is unloaded.
_vocabularies: "weakref.WeakKeyDictionary[object, _Vocabulary]" = weakref.WeakKeyDictionary()


def input_embeddings(lm: local.LocalModel) -> torch.Tensor:
    """The model's input embedding matrix, [vocabulary, hidden]: row i is what the model reads for token i."""
    if isinstance(lm.model, fast_llama.FastLlama):
        return lm.model.embedding
    return lm.model.get_input_embeddings().weight


def _vocabulary(lm: local.LocalModel, matrix: torch.Tensor) -> _Vocabulary:
    """The model's _Vocabulary, made on its first search (~0.5 s for SmolLM2's 49 152 tokens)."""
    vocabulary = _vocabularies.get(lm.model)
    if vocabulary is None:
        texts = [lm.tokenizer.decode([i]) for i in range(min(matrix.shape[0], len(lm.tokenizer)))]
        special = set(lm.tokenizer.all_special_ids)
        norms = torch.cat([chunk.float().norm(dim=1) for chunk in matrix.split(CHUNK_ROWS)])
        unused = [False] * (matrix.shape[0] - len(texts))  # rows the tokenizer never produces
        starts = [text[:1] == " " and text[1:].isalpha() and i not in special for i, text in enumerate(texts)]
        bare = [text.isalpha() and i not in special for i, text in enumerate(texts)]
        vocabulary = _Vocabulary(
            texts, 1 / norms.clamp_min(1e-12), torch.tensor(starts + unused), torch.tensor(bare + unused)
        )
        _vocabularies[lm.model] = vocabulary
    return vocabulary


def _word_ids(lm: local.LocalModel, name: str, word: str) -> list[int]:
    """The tokens of a checked word as the model reads it after a space; ValueError naming the parameter if it has
    none, or the tokenizer does not know it."""
    ids = lm.tokenizer(" " + word, add_special_tokens=False)["input_ids"]
    ids = [i for i in ids if lm.tokenizer.decode([i]).strip()]
    if lm.tokenizer.unk_token_id is not None and lm.tokenizer.unk_token_id in ids:
        raise ValueError(f"{name}: {word!r} is not in the vocabulary of model {lm.name!r}: "
                         f"its tokenizer reads it as the unknown token {lm.tokenizer.unk_token!r}")
    if not ids:
        raise ValueError(f"{name}: {word!r} becomes no token in model {lm.name!r}")
    return ids


def _word_vector(matrix: torch.Tensor, ids: list[int]) -> torch.Tensor:
    """The mean of the tokens' rows, in float32."""
    return matrix[ids].float().mean(0)


@torch.inference_mode()
def nearest_tokens(
    word: str, model: str = config.DEFAULT_TEXT_MODEL, count: int = config.DEFAULT_NEAREST_TOKENS
) -> NearestTokens:
    """The count word-like tokens whose input embeddings have the highest cosine similarity with the word's."""
    word = check_text("word", word, config.MAX_EMBEDDING_WORD_CHARS).strip()
    count = check_int("count", count, 1, config.MAX_NEAREST_TOKENS)
    lm = local.load_model(chosen_model("local", model))
    matrix = input_embeddings(lm).detach()
    ids = _word_ids(lm, "word", word)
    vocabulary = _vocabulary(lm, matrix)
    vector = F.normalize(_word_vector(matrix, ids), dim=0)
    dots = torch.cat([chunk.float() @ vector for chunk in matrix.split(CHUNK_ROWS)])
    cosines = (dots * vocabulary.inverse_norms).cpu()
    starts_with_space = lm.tokenizer.decode(ids[:1]).startswith(" ")
    candidates = (vocabulary.word_starts if starts_with_space else vocabulary.bare_words).clone()
    candidates[ids] = False
    cosines[~candidates] = -torch.inf
    top = cosines.topk(min(count, int(candidates.sum())))
    return NearestTokens(
        word,
        [vocabulary.texts[i] for i in ids],
        [Neighbour(vocabulary.texts[i], float(c)) for c, i in zip(top.values.tolist(), top.indices.tolist())],
    )


def split_words(text: object) -> list[str]:
    """The items of a text in which commas separate words (the text checked; blank items are kept)."""
    text = check_text("words", text, config.MAX_MAP_WORDS * (config.MAX_EMBEDDING_WORD_CHARS + 2))
    return re.split(r"\s*,\s*", text.strip())


def _map_words(words: object) -> list[str]:
    """The words of a list, or of a text with words separated by commas, checked; blank items are left out."""
    if isinstance(words, str):
        words = split_words(words)
    if not isinstance(words, list):
        raise ValueError(f"words must be text (words separated by commas) or a list of words, got {json_type(words)}")
    checked = [
        check_text(f"words[{i}]", word, config.MAX_EMBEDDING_WORD_CHARS, required=False).strip()
        for i, word in enumerate(words)
    ]
    checked = [word for word in checked if word]
    if not 2 <= len(checked) <= config.MAX_MAP_WORDS:
        raise ValueError(f"words must hold between 2 and {config.MAX_MAP_WORDS} words, got {len(checked)}")
    if len(set(checked)) < 2:
        raise ValueError(f"words must hold at least 2 different words, got {checked!r}")
    return checked


@torch.inference_mode()
def embedding_map(words: list[str] | str, model: str = config.DEFAULT_TEXT_MODEL) -> EmbeddingMap:
    """2-D PCA coordinates of the words' vectors, each scaled to length 1 so that distances follow the cosine.

    The vectors are centred and projected on their first two principal axes (SVD): the plane along which they
    differ most. `explained` says how much of their differences that plane keeps.
    """
    words = _map_words(words)
    lm = local.load_model(chosen_model("local", model))
    matrix = input_embeddings(lm).detach()
    ids = [_word_ids(lm, "words", w) for w in words]
    vectors = F.normalize(torch.stack([_word_vector(matrix, i) for i in ids]), dim=1).cpu()
    centred = vectors - vectors.mean(0)
    u, s, _ = torch.linalg.svd(centred, full_matrices=False)
    points = u[:, :2] * s[:2]
    points *= torch.where(points[0] < 0, -1.0, 1.0)  # an axis's sign is arbitrary: the first word on the positive side
    variance = s**2
    explained = variance[:2] / variance.sum().clamp_min(torch.finfo(variance.dtype).tiny)
    return EmbeddingMap(
        lm.name,
        words,
        [[lm.tokenizer.decode([i]) for i in word] for word in ids],
        [(float(x), float(y)) for x, y in points.tolist()],
        (float(explained[0]), float(explained[1])),
        matrix.shape[1],
    )
