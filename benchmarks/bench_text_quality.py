"""Which sampling settings make the best first impression: a fixed set of everyday prompts × seeds through the
app's path (playground.text.stream_text with the embedded model and the default system prompt, as Generate runs
it) at a few candidate settings.

For each setting it prints the loop rate (a reply of 20+ words whose distinct word pairs are under 60 % of its
pairs), distinct-1 and distinct-2 (distinct words / words and distinct word pairs / pairs of each reply, averaged),
the mean length in words, how many replies the model ended itself, and the perplexity of the replies under the plain
model. It names the best setting: the fewest loops, then the highest distinct-2, among the settings that stay
fluent (perplexity at most FLUENT_PERPLEXITY_RATIO times that of the first setting, the model's own distribution at
T 0.7, measured in the same run: a strong penalty or a high temperature also raises distinct-2, by writing words the
model finds unlikely). Each setting's reply to the first prompt follows, to read.
Run: .venv/bin/python benchmarks/bench_text_quality.py   (OMP_NUM_THREADS sets torch's threads)
"""

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parents[1]))
from playground import config, text
from playground.compare import distinct_n
from playground.text import local
from playground.text.sampling import SamplingSettings
from playground.text.stream import chat_messages

PROMPTS = [
    "Explain what a GAN is in two sentences.",
    "Why is the sky blue?",
    "Write a short story about a cat who learns to fly.",
    "List five fruits that are high in vitamin C.",
    "Give me three tips for sleeping better.",
    "Write a haiku about rain.",
    "How do I boil an egg?",
    "Summarise the plot of Romeo and Juliet.",
    "Write a polite email asking my manager for a day off.",
    "What are the pros and cons of working from home?",
]
SEEDS = (0, 1, 2)
NEW_TOKENS = 120
CANDIDATES = {  # name: (temperature, top_p, top_k, repetition_penalty)
    "T 0.7": (0.7, 1.0, 0, 1.0),  # the baseline: the old defaults
    "T 0.2, top-p 0.9": (0.2, 0.9, 0, 1.0),
    "T 0.7, top-p 0.9": (0.7, 0.9, 0, 1.0),
    "T 0.7, top-p 0.9, rep 1.1": (0.7, 0.9, 0, 1.1),
    "T 0.7, top-p 0.9, rep 1.2": (0.7, 0.9, 0, 1.2),
    "T 0.5, top-p 0.9, rep 1.1": (0.5, 0.9, 0, 1.1),
    "T 1.0, top-p 0.9, rep 1.1": (1.0, 0.9, 0, 1.1),
    "T 0.7, top-k 40, rep 1.1": (0.7, 1.0, 40, 1.1),
}
LOOP_MIN_WORDS = 20
LOOP_MAX_DISTINCT_2 = 0.6
FLUENT_PERPLEXITY_RATIO = 2.0


def loops(reply: str) -> bool:
    """A reply of LOOP_MIN_WORDS+ words whose distinct word pairs are under LOOP_MAX_DISTINCT_2 of its pairs."""
    return len(reply.split()) >= LOOP_MIN_WORDS and distinct_n([reply], 2) < LOOP_MAX_DISTINCT_2


@dataclass
class Reply:
    text: str
    ended: bool  # the model ended it (its end-of-reply token) before NEW_TOKENS
    surprise: float  # sum of -log p of its tokens under the plain model (T = 1, no top-p, no penalty)
    tokens: int


@torch.inference_mode()
def reply(prompt: str, settings: SamplingSettings) -> Reply:
    """One reply through the app's path, and how surprising its tokens are to the plain model: a sampler that
    pushes the model off its track (a high temperature, a strong penalty) writes text the model finds unlikely."""
    stream = text.stream_text(prompt, "local", "", config.DEFAULT_SYSTEM_PROMPT, settings)
    written = stream.text()
    lm = local.load_model(config.DEFAULT_TEXT_MODEL)
    prompt_ids = local.input_ids(lm, chat_messages(prompt, config.DEFAULT_SYSTEM_PROMPT))
    reply_ids = torch.tensor([s.token.token_id for s in stream.steps], dtype=torch.long)
    logits = lm.model(torch.cat([prompt_ids, reply_ids])[None]).logits[0, len(prompt_ids) - 1 : -1]
    surprise = torch.nn.functional.cross_entropy(logits.float(), reply_ids, reduction="sum").item()
    return Reply(written, stream.finish_reason == "stop", surprise, len(reply_ids))


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def main() -> None:
    defaults = SamplingSettings()
    print(f"{len(PROMPTS)} prompts × {len(SEEDS)} seeds, {NEW_TOKENS} new tokens, {torch.get_num_threads()} thread(s)")
    print("ended: replies the model ended itself · perplexity: of the replies under the plain model\n")
    print(f"{'setting':28}{'loops':>9}{'distinct-1':>12}{'distinct-2':>12}{'words':>8}{'ended':>7}{'perplexity':>12}")
    results = {}
    for name, (temperature, top_p, top_k, repetition_penalty) in CANDIDATES.items():
        replies = [
            reply(prompt, SamplingSettings(temperature, top_p, top_k, NEW_TOKENS, repetition_penalty, seed))
            for prompt in PROMPTS
            for seed in SEEDS
        ]
        texts = [r.text for r in replies]
        looping, distinct_2 = sum(map(loops, texts)), mean([distinct_n([t], 2) for t in texts])
        perplexity = math.exp(sum(r.surprise for r in replies) / sum(r.tokens for r in replies))
        results[name] = (looping, distinct_2, perplexity, texts)
        chosen = (temperature, top_p, top_k, repetition_penalty) == (
            defaults.temperature, defaults.top_p, defaults.top_k, defaults.repetition_penalty)
        print(f"{name:28}{looping:>4} / {len(texts):<2}{mean([distinct_n([t], 1) for t in texts]):12.3f}"
              f"{distinct_2:12.3f}{mean([len(t.split()) for t in texts]):8.1f}{sum(r.ended for r in replies):>7}"
              f"{perplexity:12.2f}{'   <- the defaults' if chosen else ''}", flush=True)
    limit = FLUENT_PERPLEXITY_RATIO * next(iter(results.values()))[2]
    fluent = [name for name, result in results.items() if result[2] <= limit]
    best = min(fluent, key=lambda name: (results[name][0], -results[name][1]))
    print(f"\nbest (fewest loops, then highest distinct-2, among those with perplexity <= {limit:.2f}): {best}")
    print(f"\n{PROMPTS[0]!r}, seed {SEEDS[0]}:")
    for name, (*_, texts) in results.items():
        print(f"\n[{name}]{' (loops)' if loops(texts[0]) else ''}\n{texts[0]}")


if __name__ == "__main__":
    main()
