"""Scores of a comparison's results: adherence to a reference prompt, diversity across seeds, distinct-n.

- adherence: how close each result comes to the reference prompt's intent. Pictures: our CLIP-style
  scorer's cosine between the picture and that prompt. Texts: the cosine of their MiniLM sentence
  embeddings. The mean over the seeds is the score;
- diversity: the mean pairwise distance (1 - cosine) between the results of one prompt across seeds, in
  the same embedding space (the scorer's picture embedding, or MiniLM for texts). Vague prompts vary more;
- distinct-n: how much a set of texts repeats itself, for the temperature sweep.
The runs use one entry point, score_results: whatever measures adherence, it returns a score per result and
the diversity.
"""

from collections import Counter
from itertools import combinations

import torch
from PIL import Image

from playground.image.pictures import pictures_tensor
from playground.image.scorer import adherence, load_default_scorer
from playground.image.text_encoder import encode

TEXT_EMBEDDING_TOKENS = 256  # MiniLM reads this much of a generated text (prompts need only 32 tokens)


def mean_pairwise_distance(embeddings: torch.Tensor) -> float | None:
    """Mean of 1 - cosine over all pairs of rows (unit vectors); None for fewer than two rows."""
    if len(embeddings) < 2:
        return None
    pairs = list(combinations(range(len(embeddings)), 2))
    return sum(1 - float(embeddings[i] @ embeddings[j]) for i, j in pairs) / len(pairs)


@torch.no_grad()
def picture_scores(pictures: list[Image.Image], reference: str) -> tuple[list[float], float | None]:
    """Each picture's adherence to the reference prompt (scorer cosine), and their diversity."""
    scorer = load_default_scorer()
    batch = pictures_tensor(pictures)
    sentence = encode([reference]).sentence.expand(len(pictures), -1)
    return adherence(scorer, batch, sentence).tolist(), mean_pairwise_distance(scorer.embed_images(batch * 2 - 1))


def text_scores(texts: list[str], reference: str) -> tuple[list[float], float | None]:
    """Each text's adherence to the reference prompt (MiniLM cosine), and their diversity."""
    embedded = encode(texts, max_tokens=TEXT_EMBEDDING_TOKENS).sentence
    target = encode([reference]).sentence[0]
    return (embedded @ target).tolist(), mean_pairwise_distance(embedded)


def score_results(results: list, reference: str, modality: str) -> tuple[list[float], float | None]:
    """One prompt's results (pictures or texts, one per seed) scored against the reference prompt: the
    adherence of each result, and their diversity (None for a single result)."""
    return picture_scores(results, reference) if modality == "image" else text_scores(results, reference)


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams of the texts (lower-cased words): 1 = no n-gram repeats, near 0 = the
    texts repeat each other (Li et al., 2016)."""
    grams = Counter()
    for words in (t.lower().split() for t in texts):
        grams.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0
