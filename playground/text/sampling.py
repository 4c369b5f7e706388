"""How a next token is chosen: the sampling settings, and the maths that turns a model's scores
(logits) into probabilities — temperature, top-k, top-p (nucleus) and repetition penalty.

The sampler and the next-token view share these functions, so the chart shows exactly the
probabilities that generation draws from.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from playground import config
from playground.validation import check_int, check_range


@dataclass(frozen=True)
class SamplingSettings:
    """The knobs of one generation, checked against the limits in config.

    The defaults are the best setting measured by benchmarks/bench_text_quality.py: none of its everyday replies
    falls into a loop, where T 0.7 alone loops in 2 of 30 (see the README's "Which defaults")."""

    temperature: float = 0.7  # 0 = greedy (always the most likely token); higher = flatter distribution
    top_p: float = 1.0  # keep the smallest set of tokens whose probabilities add up to top_p
    top_k: int = 40  # keep only the k most likely tokens; 0 = no limit
    max_new_tokens: int = 256  # stop after this many generated tokens
    repetition_penalty: float = 1.1  # > 1 makes tokens the reply already holds less likely (the prompt's are not counted)
    seed: int = 0  # same seed + same settings = same text

    def __post_init__(self) -> None:
        checked = {
            "temperature": check_range("temperature", self.temperature, 0.0, config.MAX_TEMPERATURE),
            "top_p": check_range("top_p", self.top_p, 0.0, 1.0, low_inclusive=False),
            "top_k": check_int("top_k", self.top_k, 0, config.MAX_TOP_K),
            "max_new_tokens": check_int("max_new_tokens", self.max_new_tokens, 1, config.MAX_NEW_TOKENS),
            "repetition_penalty": check_range(
                "repetition_penalty", self.repetition_penalty, 0.0, config.MAX_REPETITION_PENALTY,
                low_inclusive=False,
            ),
            "seed": check_int("seed", self.seed, 0, config.MAX_SEED),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)


def temperature_probabilities(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / T) over the last dimension; T = 0 puts all the mass on the argmax."""
    logits = logits.float()
    if temperature == 0:
        return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).float()
    return torch.softmax(logits / temperature, dim=-1)


def most_likely_first(probabilities: torch.Tensor, mass: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The most likely tokens and their ids, most likely first, at least until their probabilities add up to mass.

    topk over a few tokens is ~60x faster than sorting a 49 k vocabulary on this CPU (0.1 ms against 7 ms a
    token), and a handful of tokens almost always hold the mass; the whole vocabulary is sorted only when needed.
    """
    count = 64
    while True:
        count = min(count, probabilities.shape[-1])
        values, ids = probabilities.topk(count)
        if count == probabilities.shape[-1] or values.sum() >= mass:
            return values, ids
        count *= 8


def nucleus_mask(probabilities: torch.Tensor, top_p: float) -> torch.Tensor:
    """True for the tokens of the top-p nucleus: the most likely tokens until their mass reaches top_p."""
    values, ids = most_likely_first(probabilities, top_p)
    keep = values.cumsum(-1) - values < top_p
    keep[0] = True
    return torch.zeros_like(probabilities, dtype=torch.bool).scatter(-1, ids, keep)


def penalize_repetition(logits: torch.Tensor, previous_ids: torch.Tensor, penalty: float) -> torch.Tensor:
    """Make tokens already in the sequence less likely (divide positive scores, multiply negative ones)."""
    if penalty == 1.0 or previous_ids.numel() == 0:
        return logits
    scores = logits.gather(-1, previous_ids)
    scores = torch.where(scores > 0, scores / penalty, scores * penalty)
    return logits.scatter(-1, previous_ids, scores)


def sampling_probabilities(logits: torch.Tensor, settings: SamplingSettings) -> torch.Tensor:
    """The distribution the next token is drawn from: temperature, then top-k, then top-p, renormalised."""
    return truncated_distribution(temperature_probabilities(logits, settings.temperature), settings)


def truncated_distribution(probabilities: torch.Tensor, settings: SamplingSettings) -> torch.Tensor:
    """A distribution at the temperature cut to its top-k, then to its top-p nucleus, and renormalised."""
    if settings.top_k > 0:
        kth = probabilities.topk(min(settings.top_k, probabilities.shape[-1]), dim=-1).values[..., -1:]
        probabilities = torch.where(probabilities >= kth, probabilities, 0.0)
    if settings.top_p < 1.0:
        probabilities = probabilities * nucleus_mask(probabilities / probabilities.sum(-1, keepdim=True), settings.top_p)
    return probabilities / probabilities.sum(-1, keepdim=True)


def draw_number(seed: int, step: int) -> float:
    """The random number in [0, 1) that draws the token of a reply's step `step` (0 = its first token).

    It depends on the seed and the step only, so generating a reply whole, stepping through it, or continuing it
    from any of its tokens draws the same numbers: the same seed and settings make the same text every way.
    """
    return float(np.random.default_rng((seed, step)).random())


def pick_token(probabilities: torch.Tensor, number: float) -> int:
    """The token whose band holds number when the tokens, most likely first, share [0, 1) by their probabilities."""
    values, ids = most_likely_first(probabilities, number)
    bands = values.cumsum(-1)
    index = int(torch.searchsorted(bands, torch.tensor([number], dtype=bands.dtype), right=True))
    last = int((values > 0).sum()) - 1  # rounding can leave the bands a hair short of 1
    return int(ids[min(index, last)])


@dataclass
class NextTokenScores:
    """A model's scores for the token after a prompt, most likely first: what the temperature reshapes.

    Kept so that moving the temperature re-draws the view without running the model again.
    """

    prompt_tokens: list[tuple[str, bool]]  # the input as the model reads it: (token text, is special)
    tokens: list[str]  # the most likely next tokens, most likely first
    logits: torch.Tensor  # sorted scores: the whole vocabulary, or only `tokens` when a server returned those
    complete: bool  # True when logits cover the whole vocabulary


@dataclass
class Candidate:
    """One possible next token in the next-token view."""

    token: str
    probability: float  # at temperature 1: softmax(logits)
    probability_at_temperature: float  # softmax(logits / T)
    in_top_p: bool  # the sampler may pick it: inside top-k and inside the top-p nucleus
    token_id: int | None = None  # its id in the model's vocabulary (None: a server's token, known by its text only)


def next_token_distribution(scores: NextTokenScores, temperature: float, top_k: int, top_p: float) -> list[Candidate]:
    """The top-k candidates (DEFAULT_VIEW_CANDIDATES when top_k is 0) with their probabilities at T=1 and at T."""
    settings = SamplingSettings(temperature=temperature, top_k=top_k, top_p=top_p)
    count = min(settings.top_k or config.DEFAULT_VIEW_CANDIDATES, len(scores.tokens))
    at_one = temperature_probabilities(scores.logits, 1.0)
    at_temperature = temperature_probabilities(scores.logits, settings.temperature)
    may_sample = truncated_distribution(at_temperature, settings) > 0
    return [
        Candidate(scores.tokens[i], float(at_one[i]), float(at_temperature[i]), bool(may_sample[i]))
        for i in range(count)
    ]


@dataclass
class TokenStep:
    """One turn of the generation loop as it happened: the token taken, the probability it was drawn with, the
    random number that drew it, and the most likely candidates of that step."""

    token: Candidate  # the token taken, with its probabilities at T = 1 and at T
    probability: float  # its probability in the distribution it was drawn from (after top-k/top-p, renormalised)
    number: float | None  # the random number that drew it; None when greedy (T = 0) or chosen by the user
    candidates: list[Candidate]  # the most likely tokens of this step, most likely first


def take_step(
    logits: torch.Tensor,
    previous_ids: torch.Tensor,
    settings: SamplingSettings,
    step: int,
    decode: Callable[[list[int]], list[str]],
    chosen: int | None = None,
) -> TokenStep:
    """One turn of the loop on the model's scores for the next token: the repetition penalty, temperature, top-k and
    top-p reshape them, then the token is drawn with draw_number(seed, step), or taken as chosen by the user.

    Generation, the step-through and the token view all go through here, so what they show is what was drawn.
    decode turns token ids into their texts.
    """
    logits = penalize_repetition(logits.float(), previous_ids, settings.repetition_penalty)
    at_temperature = temperature_probabilities(logits, settings.temperature)
    probabilities = truncated_distribution(at_temperature, settings)
    number = None if chosen is not None or settings.temperature == 0 else draw_number(settings.seed, step)
    token = chosen if chosen is not None else pick_token(probabilities, number or 0.0)
    at_one = torch.softmax(logits, -1)
    count = min(max(settings.top_k, config.DEFAULT_VIEW_CANDIDATES), logits.shape[-1])
    ids = at_one.topk(count).indices.tolist() + [token]
    rows = torch.stack([at_one[ids], at_temperature[ids], probabilities[ids]]).T.tolist()  # one copy, not 3 per token
    candidates = [Candidate(t, one, at_t, drawn > 0, i) for i, t, (one, at_t, drawn) in zip(ids, decode(ids), rows)]
    return TokenStep(candidates[-1], rows[-1][2], number, candidates[:-1])
