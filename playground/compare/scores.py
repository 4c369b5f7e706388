"""Scores of a comparison's results: adherence to a reference prompt, diversity across seeds, distinct-n.

- adherence: how much of the reference prompt's intent each result honours. Pictures of our own models: the judge
  (playground.image.judge, GenEval's way) finds the objects and checks each detail the reference asks for (each
  object, its count, colour, size and place, a relation, the background, the style); a picture's adherence is the
  share of those details it honours. The judge knows only our world, so hub and OpenAI pictures, and references that
  ask for nothing in its vocabulary, are not measured. Texts: the cosine of their MiniLM sentence embeddings;
- diversity: the mean distance between the results of one prompt across seeds, over every pair. Pictures of our own
  models: the share of what the judge sees (ASPECTS: the objects, their colours, how many, where, the background, the
  style) that differs between two pictures; other pictures: the mean difference of their pixels at the world's
  64 x 64 (0: the same picture, 1: black against white); texts: 1 - cosine of their MiniLM embeddings. Vague prompts
  vary more. Pixels alone mislead: one big apple against another differs in more pixels than two small foods do;
- distinct-n: how much a set of texts repeats itself, for the temperature sweep.
The runs use one entry point, score_results: each result's adherence (none when not measured), the diversity, and
the judge's checks of each picture.
"""

from collections import Counter
from collections.abc import Callable
from itertools import combinations

import torch
from PIL import Image

from playground.image.judge import Seen, Verdict, check, see, world_picture
from playground.image.pictures import pictures_tensor
from playground.image.text_encoder import encode
from playground.image.world import area_of, read_prompt

TEXT_EMBEDDING_TOKENS = 256  # MiniLM reads this much of a generated text (prompts need only 32 tokens)
ASPECTS = ("objects", "colours", "count", "places", "background", "style")  # what seen_aspects returns, in order


def mean_over_pairs(items, distance: Callable) -> float | None:
    """The mean distance over all pairs of items; None for fewer than two."""
    pairs = list(combinations(items, 2))
    return sum(distance(a, b) for a, b in pairs) / len(pairs) if pairs else None


def mean_pairwise_distance(embeddings: torch.Tensor) -> float | None:
    """Mean of 1 - cosine over all pairs of rows (unit vectors); None for fewer than two rows."""
    return mean_over_pairs(embeddings, lambda a, b: 1 - float(a @ b))


def share_honoured(verdict: Verdict) -> float:
    """The share of the checked details a picture honours."""
    return verdict.honoured / len(verdict.checks)


def seen_aspects(seen: Seen) -> tuple:
    """What the judge saw in a picture, aspect by aspect (ASPECTS): the objects' names, their main colours, how many
    objects, the areas of the frame they stand in, the background and the style."""
    return (frozenset(f.name for f in seen.objects), frozenset(f.colours[:1] for f in seen.objects),
            len(seen.objects), frozenset(area_of(f.centre) for f in seen.objects), seen.background, seen.style)


def share_differing(a: Seen, b: Seen) -> float:
    """The share of ASPECTS in which two pictures differ, as the judge sees them (0: the same content)."""
    return sum(x != y for x, y in zip(seen_aspects(a), seen_aspects(b), strict=True)) / len(ASPECTS)


def picture_scores(pictures: list[Image.Image], reference: str, judged: bool) -> tuple[list[float], float | None, list[Verdict]]:
    """Each picture's share of the reference's details honoured (when judged and the reference asks for any), their
    diversity (judged: the share of what the judge sees that differs; else the mean pixel difference), and the
    judge's checks of each picture (when judged)."""
    if not judged:
        at_world_size = pictures_tensor([world_picture(p) for p in pictures])
        return [], mean_over_pairs(at_world_size, lambda a, b: float((a - b).abs().mean())), []
    seen = see(pictures)
    request = read_prompt(reference)
    verdicts = [check(request, s) for s in seen]
    return [share_honoured(v) for v in verdicts if v.checks], mean_over_pairs(seen, share_differing), verdicts


def text_scores(texts: list[str], reference: str) -> tuple[list[float], float | None, list[Verdict]]:
    """Each text's adherence to the reference prompt (MiniLM cosine), and their diversity."""
    embedded = encode(texts, max_tokens=TEXT_EMBEDDING_TOKENS).sentence
    target = encode([reference]).sentence[0]
    return (embedded @ target).tolist(), mean_pairwise_distance(embedded), []


def score_results(results: list, reference: str, modality: str, judged: bool) -> tuple[list[float], float | None, list[Verdict]]:
    """One prompt's results (pictures or texts, one per seed) scored against the reference prompt: the adherence of
    each result (empty when not measured), their diversity (None for a single result), and the judge's checks of
    each picture (judged: pictures of our own models)."""
    return picture_scores(results, reference, judged) if modality == "image" else text_scores(results, reference)


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams of the texts (lower-cased words): 1 = no n-gram repeats, near 0 = the
    texts repeat each other (Li et al., 2016)."""
    grams = Counter()
    for words in (t.lower().split() for t in texts):
        grams.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0
