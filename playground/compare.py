"""Compare prompts: several prompts through one backend with the same seeds and settings, scored side by side.

The lesson of seed text 000 made measurable: the more specific a prompt, the closer the result comes to
what was meant, and the less it varies from seed to seed. Three scores per prompt:
- specificity: how many concrete details the prompt states, counted by word lists anyone can read
  (CATEGORIES below); every counted word is reported with its category;
- adherence: how close each result comes to the most detailed prompt's intent. Pictures: our CLIP-style
  scorer's cosine between the picture and that prompt. Texts: the cosine of their MiniLM sentence
  embeddings. The mean over the seeds is the score;
- diversity: the mean pairwise distance (1 - cosine) between the results of one prompt across seeds, in
  the same embedding space (the scorer's picture embedding, or MiniLM for texts). Vague prompts vary more.
Plus "which words mattered" (drop one detail phrase at a time and measure the adherence lost), a
temperature sweep for text with distinct-n, the vague-to-detailed expansion, and the export.
"""

import difflib
import json
import math
import re
import textwrap
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from playground import config, image, text
from playground.image import ImageSettings, generate_batch, generate_image, metadata
from playground.image.pictures import COLOUR_WORDS, pictures_tensor
from playground.image.scorer import adherence, load_default_scorer
from playground.image.text_encoder import encode
from playground.openai_client import check_endpoint
from playground.text import local
from playground.text.sampling import SamplingSettings
from playground.validation import check_choice, check_int, check_range, check_text

MODALITIES = ("image", "text")
BACKENDS = {"image": image.BACKENDS, "text": text.BACKENDS}
MIN_PROMPTS, MAX_PROMPTS = 2, 4
MAX_TEMPERATURES = 5  # temperatures in one sweep
TEXT_EMBEDDING_TOKENS = 256  # MiniLM reads this much of a generated text (prompts need only 32 tokens)

# Specificity: a word counts as a detail of the first category whose list holds it (or one of its
# hyphenated parts); other words count as the subject, except stop words (skipped) and vague words
# (shown as not counted). "-shaped" words are shapes, words with a number in them are counts.
NUMBERS = frozenset("one two three four five six seven eight nine ten eleven twelve dozen hundred".split())
CATEGORIES: dict[str, frozenset[str]] = {
    "count": NUMBERS | frozenset("single pair couple several many few both double triple twin twins".split()),
    "colour": frozenset(COLOUR_WORDS) | frozenset(
        "gray violet gold golden silver beige cyan magenta turquoise teal navy crimson scarlet maroon olive lime "
        "dark light pale bright pastel colourful colorful multicoloured multicolored rainbow".split()),
    "size": frozenset("tiny small little big large huge giant tall short long wide narrow thin thick fat mini "
                      "miniature oversized".split()),
    "shape": frozenset("round square circular oval triangular rectangular curved pointed spiky wavy straight "
                       "star-shaped heart-shaped".split()),
    "expression": frozenset("smiling grinning laughing crying sad happy angry winking surprised sleeping sleepy "
                            "kissing frowning worried shocked scared thinking blushing cheerful grumpy tearful "
                            "joyful smirking yawning".split()),
    "material": frozenset("wooden metal metallic glass furry fluffy fuzzy striped spotted dotted checkered plaid "
                          "leather stone paper shiny glossy matte transparent sparkling".split()),
    "style": frozenset("cartoon flat pixel realistic photo photograph photorealistic watercolour watercolor sketch "
                       "drawing painting 3d emoji minimalist outline icon vintage retro anime neon cute "
                       "formal informal funny friendly calm serious playful poetic rhyming humorous warm "
                       "simple technical".split()),
    "composition": frozenset("close-up closeup centered centred background foreground left right top bottom side "
                             "front back view above below behind beside under over on inside between near "
                             "corner middle facing portrait landscape".split()),
    "format": frozenset("line lines sentence sentences word words paragraph paragraphs list bullet bullets haiku "
                        "limerick slogan title headline one-line steps brief".split()),
}
STOP_WORDS = frozenset(
    "a an the of and or with in at to for from by about as is are be it its this that these those some any "
    "me my your please write tell describe explain make draw create generate give show".split())
VAGUE_WORDS = frozenset("thing things something stuff nice beautiful good great cool amazing awesome pretty "
                        "interesting kind sort type image picture illustration very really".split())
# Words that start a new detail phrase ("a red apple | with a leaf | on a plate"), and commas.
CONNECTORS = frozenset("with and on in under over behind beside near above below inside holding wearing "
                       "about for without at next".split())
_WORD = re.compile(r"[0-9A-Za-z]+(?:['’-][0-9A-Za-z]+)*|,")

# "Make it detailed": few-shot examples of vague → detailed for each modality.
EXPANSION_INSTRUCTIONS = {
    "image": "Rewrite a short picture description as a detailed one: keep its subject and add the colour, the "
             "expression or shape, and a small detail. Reply with the description only, on one line.",
    "text": "Rewrite a short request as a detailed one: keep its topic and add the length, the audience, the tone "
            "and the format. Reply with the request only, on one line.",
}
EXPANSION_EXAMPLES = {
    "image": [("food", "a red apple"), ("heart", "a blue heart, love"),
              ("smiley", "a yellow smiling face with heart-eyes"), ("an animal", "a brown dog face with floppy ears")],
    "text": [("Write a poem.", "Write a four-line rhyming poem about rain on a window, in a calm tone."),
             ("Tell me about cats.", "Explain in three short sentences why cats purr, for a ten-year-old."),
             ("Write a slogan.", "Write a one-line slogan for a small bakery that sells warm bread, friendly and funny.")],
}
EXPANSION_REQUEST = "Make this more detailed: {}"  # each example's and the prompt's user turn
EXPANSION_TOKENS = 48


@dataclass(frozen=True)
class CompareSettings:
    """How every prompt of a comparison runs: one backend, the same seeds and the same settings.

    Image settings are used by the image modality, sampling settings by the text modality; each is checked
    by the modality's own settings class, and the total work is capped (check_work).
    """

    modality: str = "image"  # "image" or "text"
    backend: str = "diffusion"  # image: gan, diffusion, openai · text: local, openai
    model: str = ""  # "" for the backend's default
    seed: int = 0  # result i of every prompt uses seed + i
    num_seeds: int = 4  # results per prompt
    negative_prompt: str = ""
    num_inference_steps: int = 20
    guidance_scale: float = 3.0
    scheduler: str = image.diffusion.DEFAULT_SCHEDULER
    system_prompt: str = ""
    temperature: float = SamplingSettings.temperature  # the Text tab's defaults
    top_p: float = SamplingSettings.top_p
    max_new_tokens: int = 60

    def __post_init__(self) -> None:
        modality = check_choice("modality", self.modality, MODALITIES)
        backends = BACKENDS[modality]
        if self.backend not in backends:
            raise ValueError(f"backend must be one of {', '.join(map(repr, backends))} for the {modality} modality, "
                             f"got {self.backend!r}")
        object.__setattr__(self, "num_seeds", check_int("num_seeds", self.num_seeds, 1, config.MAX_COMPARE_SEEDS))
        # Every value is checked, also those the other modality ignores: a bad value never passes silently.
        # Any prompt will do here: only the shared settings are checked (the openai backend requires one).
        self.image_settings("a prompt")
        object.__setattr__(self, "seed", self.sampling(self.seed).seed)
        object.__setattr__(self, "model", check_text("model", self.model, config.MAX_NAME_CHARS, required=False).strip())
        object.__setattr__(self, "system_prompt", check_text("system_prompt", self.system_prompt,
                                                             config.MAX_PROMPT_CHARS, required=False))

    @property
    def seeds(self) -> list[int]:
        return [(self.seed + i) % (config.MAX_SEED + 1) for i in range(self.num_seeds)]

    def image_settings(self, prompt: str = "") -> ImageSettings:
        """The image settings of one prompt (for the text modality only their values, on the diffusion backend)."""
        backend, model = (self.backend, self.model) if self.modality == "image" else ("diffusion", "")
        return ImageSettings(prompt, self.negative_prompt, backend, model, self.seed, self.num_seeds,
                             self.num_inference_steps, self.guidance_scale, self.scheduler)

    def sampling(self, seed: int, temperature: float | None = None) -> SamplingSettings:
        chosen = self.temperature if temperature is None else temperature
        return SamplingSettings(temperature=chosen, top_p=self.top_p, max_new_tokens=self.max_new_tokens, seed=seed)

    def used(self) -> dict:
        """The settings that shape the results (for the export and the sheet's metadata)."""
        if self.modality == "image":
            used = self.image_settings("a prompt").for_image(self.seed)
            del used["prompt"], used["seed"]
        else:
            used = {"backend": self.backend, "model": self.model or text.default_model(self.backend)}
            used |= {name: getattr(self, name) for name in ("system_prompt", "temperature", "top_p", "max_new_tokens")}
        return {"modality": self.modality, **used, "seeds": self.seeds}

    def check_work(self, runs: int, what: str) -> None:
        """Refuse more than MAX_COMPARE_WORK: runs × seeds × steps (denoising steps or new tokens; 1 for one-pass backends)."""
        unit, steps = {"diffusion": ("num_inference_steps", self.num_inference_steps)}.get(self.backend, ("steps", 1))
        if self.modality == "text":
            unit, steps = "max_new_tokens", self.max_new_tokens
        work = runs * self.num_seeds * steps
        if work > config.MAX_COMPARE_WORK:
            raise ValueError(
                f"this comparison is too much work: {runs} {what} × {self.num_seeds} seeds × {steps} {unit} = {work}, "
                f"the limit is {config.MAX_COMPARE_WORK}; use fewer {what}, seeds or {unit}"
            )


def check_prompt(prompt: object, name: str = "prompt") -> str:
    """A non-empty prompt of at most MAX_COMPARE_PROMPT_CHARS characters, without surrounding spaces."""
    return check_text(name, prompt, config.MAX_COMPARE_PROMPT_CHARS).strip()


def check_prompts(prompts: object) -> list[str]:
    """2 to 4 prompts, each checked by check_prompt."""
    if not isinstance(prompts, (list, tuple)):
        raise ValueError(f"prompts must be a list of {MIN_PROMPTS} to {MAX_PROMPTS} strings, got {type(prompts).__name__}")
    if not MIN_PROMPTS <= len(prompts) <= MAX_PROMPTS:
        raise ValueError(f"prompts must hold between {MIN_PROMPTS} and {MAX_PROMPTS} prompts, got {len(prompts)}")
    return [check_prompt(p, f"prompts[{i}]") for i, p in enumerate(prompts)]


# Specificity


@dataclass
class Specificity:
    """The details a prompt states: each counted word with its category, and the vague words not counted."""

    words: list[tuple[str, str]]  # (word, category) in the prompt's order
    not_counted: list[str]

    @property
    def score(self) -> int:
        return len(self.words)

    def by_category(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for word, category in self.words:
            grouped.setdefault(category, []).append(word)
        return grouped

    def as_dict(self) -> dict:
        return {"score": self.score, "words": self.by_category(), "not_counted": self.not_counted}


def word_category(word: str) -> str | None:
    """The detail category of one word, "vague" for words that say little, None for stop words."""
    word = word.lower().replace("’", "'")
    if word in STOP_WORDS:
        return None
    parts = word.split("-")
    if any(part.isdigit() or part in NUMBERS for part in parts):
        return "count"
    if word.endswith("-shaped"):
        return "shape"
    for category, words in CATEGORIES.items():
        if word in words or any(part in words for part in parts):
            return category
    return "vague" if word in VAGUE_WORDS else "subject"


def specificity(prompt: str) -> Specificity:
    """Count the prompt's concrete details by the rules above (transparent: every counted word is listed)."""
    words: list[tuple[str, str]] = []
    vague: list[str] = []
    for match in _WORD.finditer(prompt):
        category = word_category(match.group()) if match.group() != "," else None
        if category == "vague":
            vague.append(match.group())
        elif category is not None:
            words.append((match.group(), category))
    return Specificity(words, vague)


def most_detailed(prompts: list[str]) -> str:
    """The prompt with the highest specificity (the later one on a tie: columns go from vague to detailed)."""
    return max(reversed(prompts), key=lambda p: specificity(p).score)


def _counted(token: str) -> bool:
    return token != "," and word_category(token) not in (None, "vague")


def _without(prompt: str, start: int, end: int) -> str:
    """The prompt with the characters start:end taken out, spaces, commas and "a"/"an" mended."""
    shorter = prompt[:start] + " " + prompt[end:]
    shorter = re.sub(r",\s*([.!?]|$)", r"\1", re.sub(r"\s+([,.!?])", r"\1", shorter))
    shorter = re.sub(r"\s+", " ", shorter).strip(" ,")
    shorter = re.sub(r"\b([Aa])n ([^aeiouAEIOU\W])", r"\1 \2", shorter)
    return re.sub(r"\b([Aa]) ([aeiouAEIOU])", r"\1n \2", shorter)


def detail_phrases(prompt: str) -> list[tuple[str, str]]:
    """The details that can be dropped one at a time, each with the prompt without it: every counted word
    before the first comma or connector except the subject it describes (the last subject word there),
    then every later phrase that holds a counted word, as a whole ("with heart-shaped eyes", ", fruit")."""
    segments: list[list[re.Match]] = [[]]
    for match in _WORD.finditer(prompt):
        if (match.group() == "," or match.group().lower() in CONNECTORS) and segments[-1]:
            segments.append([])
        segments[-1].append(match)
    head = [m for m in segments[0] if _counted(m.group())]
    subjects = [i for i, m in enumerate(head) if word_category(m.group()) == "subject"]
    spans = [(m.start(), m.end()) for i, m in enumerate(head) if not subjects or i != subjects[-1]]
    spans += [(s[0].start(), s[-1].end()) for s in segments[1:] if any(_counted(m.group()) for m in s)]
    return [(prompt[start:end], _without(prompt, start, end)) for start, end in spans]


def word_diff(before: str, after: str) -> list[tuple[str, str | None]]:
    """Words of after marked "added" where before lacks them, and words of before dropped marked "removed"
    (case-insensitive); what HighlightedText shows under an expanded prompt."""
    old, new = before.split(), after.split()
    spans: list[tuple[str, str | None]] = []
    matcher = difflib.SequenceMatcher(a=[w.lower() for w in old], b=[w.lower() for w in new], autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            spans += [(word + " ", "removed") for word in old[a0:a1]]
        if op in ("insert", "replace"):
            spans += [(word + " ", "added") for word in new[b0:b1]]
        if op == "equal":
            spans += [(word + " ", None) for word in new[b0:b1]]
    return spans


# Measuring results


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


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct n-grams over all n-grams of the texts (lower-cased words): 1 = no n-gram repeats, near 0 = the
    texts repeat each other (Li et al., 2016)."""
    grams = Counter()
    for words in (t.lower().split() for t in texts):
        grams.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


# Running prompts


def run_pictures(prompts: list[str], settings: CompareSettings, base_url: str = "", api_key: str = "") -> list[list[Image.Image]]:
    """num_seeds pictures per prompt; our models run every (prompt, seed) pair in shared batches."""
    seeds = settings.seeds
    if settings.backend == "openai":
        return [generate_image(settings.image_settings(p), base_url=base_url, api_key=api_key).images for p in prompts]
    flat = generate_batch(settings.image_settings(), [p for p in prompts for _ in seeds], seeds * len(prompts))
    return [flat[i * len(seeds) : (i + 1) * len(seeds)] for i in range(len(prompts))]


def run_texts(prompts: list[str], settings: CompareSettings, base_url: str = "", api_key: str = "",
              temperature: float | None = None) -> list[list[str]]:
    """num_seeds texts per prompt (seed + i for text i), at the settings' temperature unless one is given."""
    model = text.chosen_model(settings.backend, settings.model)
    return [
        [text.stream_text(p, settings.backend, model, settings.system_prompt, settings.sampling(seed, temperature),
                          base_url, api_key).text() for seed in settings.seeds]
        for p in prompts
    ]


def _results(prompts: list[str], settings: CompareSettings, base_url: str, api_key: str) -> list[list]:
    base_url, api_key = check_endpoint(base_url, api_key)
    if settings.modality == "image":
        return run_pictures(prompts, settings, base_url, api_key)
    return run_texts(prompts, settings, base_url, api_key)


def _scores(results: list, reference: str, modality: str) -> tuple[list[float], float | None]:
    return picture_scores(results, reference) if modality == "image" else text_scores(results, reference)


@dataclass
class Column:
    """One prompt's results and scores."""

    prompt: str
    results: list  # PIL pictures (image) or texts (text), one per seed
    specificity: Specificity
    adherence: list[float]  # per result, to the comparison's reference prompt
    diversity: float | None  # None with one seed

    @property
    def mean_adherence(self) -> float:
        return sum(self.adherence) / len(self.adherence)


@dataclass
class Comparison:
    settings: CompareSettings
    reference: str  # the most detailed prompt: what adherence measures against
    columns: list[Column]

    def report(self, files: list[list[str]] | None = None) -> dict:
        """The comparison as JSON-ready data: settings, reference, and per prompt its scores and results
        (texts, or the pictures' file names when given)."""
        columns = []
        for i, column in enumerate(self.columns):
            entry = {"prompt": column.prompt, "specificity": column.specificity.as_dict(),
                     "adherence": round(column.mean_adherence, 4),
                     "adherence_per_seed": [round(a, 4) for a in column.adherence],
                     "diversity": None if column.diversity is None else round(column.diversity, 4)}
            if self.settings.modality == "text":
                entry["texts"] = column.results
            elif files:
                entry["files"] = [Path(f).name for f in files[i]]
            columns.append(entry)
        return {"settings": self.settings.used(), "reference_prompt": self.reference, "columns": columns}


def compare_prompts(prompts: list[str], settings: CompareSettings, base_url: str = "", api_key: str = "") -> Comparison:
    """Run every prompt with the same seeds and settings, and score each against the most detailed one."""
    prompts = check_prompts(prompts)
    settings.check_work(len(prompts), "prompts")
    reference = most_detailed(prompts)
    columns = []
    for prompt, results in zip(prompts, _results(prompts, settings, base_url, api_key)):
        scores, diversity = _scores(results, reference, settings.modality)
        columns.append(Column(prompt, results, specificity(prompt), scores, diversity))
    return Comparison(settings, reference, columns)


@dataclass
class PhraseEffect:
    phrase: str  # the detail taken out
    prompt: str  # the prompt without it
    adherence: float  # of its results to the full prompt
    drop: float  # the full prompt's adherence minus this one: how much the detail mattered


def words_that_mattered(prompt: str, settings: CompareSettings, base_url: str = "",
                        api_key: str = "") -> tuple[float, list[PhraseEffect]]:
    """The full prompt's adherence, and for each detail phrase the adherence (to the full prompt) of results
    made without it, with the same seeds."""
    prompt = check_prompt(prompt)
    details = detail_phrases(prompt)
    if not details:
        raise ValueError(f"prompt {prompt!r} states no detail to take out: try a more detailed prompt, e.g. 'a red apple'")
    phrases, shorter = [phrase for phrase, _ in details], [without for _, without in details]
    settings.check_work(len(phrases) + 1, "prompts (the full one and one per detail)")
    results = _results([prompt, *shorter], settings, base_url, api_key)
    means = [sum(scores) / len(scores) for scores, _ in (_scores(r, prompt, settings.modality) for r in results)]
    full = means[0]
    return full, [PhraseEffect(p, s, a, full - a) for p, s, a in zip(phrases, shorter, means[1:])]


@dataclass
class SweepRow:
    temperature: float
    texts: list[str]  # one per seed
    distinct_1: float
    distinct_2: float


def temperature_sweep(prompt: str, temperatures: list[float], settings: CompareSettings, base_url: str = "",
                      api_key: str = "") -> list[SweepRow]:
    """One prompt at several temperatures with the same seeds, and the distinct-1/2 of each temperature's texts."""
    if settings.modality != "text":
        raise ValueError(f"the temperature sweep is for text: modality must be 'text', got {settings.modality!r}")
    prompt = check_prompt(prompt)
    if not isinstance(temperatures, (list, tuple)) or not 1 <= len(temperatures) <= MAX_TEMPERATURES:
        raise ValueError(f"temperatures must be a list of 1 to {MAX_TEMPERATURES} numbers, got {temperatures!r}")
    temperatures = [check_range("temperature", t, 0.0, config.MAX_TEMPERATURE) for t in temperatures]
    settings.check_work(len(temperatures), "temperatures")
    rows = []
    for temperature in temperatures:
        texts = run_texts([prompt], settings, base_url, api_key, temperature)[0]
        rows.append(SweepRow(temperature, texts, distinct_n(texts, 1), distinct_n(texts, 2)))
    return rows


# Make it detailed


def expand_prompt(prompt: str, modality: str = "image", backend: str = "local", model: str = "", base_url: str = "",
                  api_key: str = "") -> str:
    """A detailed version of a vague prompt, written by a text backend from a few examples (greedy: the same
    prompt gives the same expansion)."""
    prompt = check_prompt(prompt)
    modality = check_choice("modality", modality, MODALITIES)
    backend = check_choice("backend", backend, text.BACKENDS)
    base_url, api_key = check_endpoint(base_url, api_key)
    # no repetition penalty: the detailed prompt repeats the vague one's words ("a face" -> "a smiling ... face")
    settings = SamplingSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=EXPANSION_TOKENS)
    examples = EXPANSION_EXAMPLES[modality]
    model = text.chosen_model(backend, model)
    if backend == "local":  # small local models follow examples given as earlier turns far better than listed ones
        messages = [{"role": "system", "content": EXPANSION_INSTRUCTIONS[modality]}]
        for vague, detailed in examples:
            messages += [{"role": "user", "content": EXPANSION_REQUEST.format(vague)}, {"role": "assistant", "content": detailed}]
        stream = local.stream_chat([*messages, {"role": "user", "content": EXPANSION_REQUEST.format(prompt)}], model, settings)
    else:
        listed = "\n".join(f"{vague} -> {detailed}" for vague, detailed in examples)
        system = f"{EXPANSION_INSTRUCTIONS[modality]}\nExamples:\n{listed}"
        stream = text.stream_text(EXPANSION_REQUEST.format(prompt), backend, model, system, settings, base_url, api_key)
    lines = [line.strip().strip("\"'`").strip() for line in stream.text().splitlines()]
    detailed = next((line for line in lines if line), "")[: config.MAX_COMPARE_PROMPT_CHARS]
    if not detailed:
        raise ValueError(f"the {backend} model wrote no detailed prompt for {prompt!r}: try again, or another model")
    return detailed


# Export

SHEET_CELL = 64  # pictures are drawn this large on the sheet (nearest neighbour: pixels stay sharp)
SHEET_COLUMN = 4 * SHEET_CELL + 16
SHEET_MARGIN = 16
TEXT_LINES_PER_RESULT = 6


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(line: str, width: int = 38) -> list[str]:
    return textwrap.wrap(line, width) or [""]


def _column_lines(column: Column, reference: str) -> list[str]:
    found = column.specificity.by_category()
    diversity = "—" if column.diversity is None else f"{column.diversity:.3f}"
    lines = [f"specificity {column.specificity.score}"]
    lines += [f"  {category}: {', '.join(words)}" for category, words in found.items()]
    lines += [f"adherence {column.mean_adherence:.3f}" + (" (reference)" if column.prompt == reference else ""),
              f"diversity {diversity}"]
    return [wrapped for line in lines for wrapped in _wrap(line)]


def _result_lines(column: Column, seeds: list[int]) -> list[str]:
    return [line for seed, result in zip(seeds, column.results)
            for line in [f"seed {seed}:", *_wrap(result.replace("\n", " "))[:TEXT_LINES_PER_RESULT]]]


def contact_sheet(comparison: Comparison) -> Image.Image:
    """The whole comparison on one picture: a column per prompt with its results and scores, rows aligned."""
    settings, columns = comparison.settings, comparison.columns
    title, small = _font(16), _font(12)
    prompts = [_wrap(column.prompt, 32) for column in columns]
    texts = [_result_lines(column, settings.seeds) if settings.modality == "text" else [] for column in columns]
    scores = [_column_lines(column, comparison.reference) for column in columns]
    width = 2 * SHEET_MARGIN + SHEET_COLUMN * len(columns)
    header = _wrap(f"Compare: {settings.modality}, {settings.backend} {settings.used()['model']}, seeds {settings.seeds}. "
                   f"Adherence: to the most detailed prompt, {comparison.reference!r}", (width - 2 * SHEET_MARGIN) // 7)
    rows = math.ceil(settings.num_seeds / 4)
    top = SHEET_MARGIN + 15 * len(header) + 12
    results_top = top + 20 * max(map(len, prompts)) + 4
    scores_top = results_top + (rows * (SHEET_CELL + 4) if settings.modality == "image" else 15 * max(map(len, texts))) + 8
    height = scores_top + 15 * max(map(len, scores)) + SHEET_MARGIN
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for k, line in enumerate(header):
        draw.text((SHEET_MARGIN, SHEET_MARGIN + 15 * k), line, fill="black", font=small)
    for c, column in enumerate(columns):
        x = SHEET_MARGIN + c * SHEET_COLUMN
        for k, line in enumerate(prompts[c]):
            draw.text((x, top + 20 * k), line, fill="#1e1b4b", font=title)
        for k, picture in enumerate(column.results if settings.modality == "image" else []):
            cell = picture.convert("RGB").resize((SHEET_CELL, SHEET_CELL), Image.Resampling.NEAREST)
            sheet.paste(cell, (x + (k % 4) * (SHEET_CELL + 4), results_top + (k // 4) * (SHEET_CELL + 4)))
        for k, line in enumerate(texts[c]):
            draw.text((x, results_top + 15 * k), line, fill="#374151", font=small)
        for k, line in enumerate(scores[c]):
            draw.text((x, scores_top + 15 * k), line, fill="black", font=small)
    return sheet


def export(comparison: Comparison, files: list[list[str]] | None = None, sheet: Path | None = None) -> tuple[Path, Path]:
    """The comparison as a PNG sheet (carrying the settings and the AI-generated marks) and as JSON next to it;
    by default in the output folder."""
    report = comparison.report(files)
    sheet = sheet or metadata.output_path(".png")
    settings = {**report["settings"], "prompts": [c.prompt for c in comparison.columns]}
    contact_sheet(comparison).save(sheet, format="PNG", pnginfo=metadata.png_info(settings))
    path = sheet.with_suffix(".json")
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    return sheet, path


def save_pictures(comparison: Comparison) -> list[list[str]]:
    """Each picture as a PNG carrying the settings that remake it, per prompt in seed order."""
    settings = comparison.settings
    return [[str(metadata.save_png(picture, settings.image_settings(column.prompt).for_image(seed)))
             for picture, seed in zip(column.results, settings.seeds)] for column in comparison.columns]
