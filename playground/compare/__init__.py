"""The Compare tab's backend: several prompts through one backend with the same seeds and settings, scored side by side.

The lesson of seed text 000 made measurable: the more specific a prompt, the closer the result comes to what was
meant, and the less it varies from seed to seed. Each module does one job, and imports only those above it:
- specificity.py: the word lists and the count of a prompt's concrete details; the most detailed prompt; the detail
  phrases that can be dropped one at a time;
- scores.py: adherence of each result to the reference prompt (pictures: the share of its details the judge finds
  honoured; texts: MiniLM cosine) and diversity across seeds (score_results), and distinct-n for texts;
- runs.py: CompareSettings and the prompt checks, running prompts with the same seeds, and what is built on the
  runs: compare_prompts, words_that_mattered (with the judge's checks each detail costs), temperature_sweep;
- expansion.py: "make it detailed" (expand_prompt) and word_diff, the words an expansion added and removed;
- sheet.py: the export: the PNG contact sheet with its JSON report, and each picture as a PNG.
"""

from playground.compare.expansion import expand_prompt, word_diff
from playground.compare.runs import (
    BACKENDS,
    MAX_PROMPTS,
    MODALITIES,
    Column,
    Comparison,
    CompareSettings,
    PhraseEffect,
    SweepRow,
    compare_prompts,
    temperature_sweep,
    words_that_mattered,
)
from playground.compare.scores import distinct_n, mean_pairwise_distance
from playground.compare.sheet import export, save_pictures
from playground.compare.specificity import Specificity, detail_phrases, most_detailed, specificity

__all__ = [
    "BACKENDS", "MAX_PROMPTS", "MODALITIES", "Column", "Comparison", "CompareSettings", "PhraseEffect", "Specificity",
    "SweepRow", "compare_prompts", "detail_phrases", "distinct_n", "expand_prompt", "export", "mean_pairwise_distance",
    "most_detailed", "save_pictures", "specificity", "temperature_sweep", "word_diff", "words_that_mattered",
]
