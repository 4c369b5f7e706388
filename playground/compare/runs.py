"""Running prompts side by side: the settings every prompt shares, the runs (the same seeds for every prompt), and
what they make of them — the comparison scored against its most detailed prompt, the adherence each detail phrase is
worth and the judge's checks it costs ("which words mattered"), and the temperature sweep for text."""

from dataclasses import asdict, dataclass, field
from pathlib import Path

from PIL import Image

from playground import config, image, text
from playground.compare.scores import ASPECTS, distinct_n, score_results
from playground.compare.specificity import Specificity, detail_phrases, most_detailed, specificity
from playground.image import ImageSettings, generate_batch, generate_image
from playground.image.judge import Verdict
from playground.image.world import SIZE, read_prompt
from playground.openai_client import check_endpoint
from playground.text.sampling import SamplingSettings
from playground.validation import check_choice, check_int, check_range, check_text

MODALITIES = ("image", "text")
BACKENDS = {"image": image.BACKENDS, "text": text.BACKENDS}
MIN_PROMPTS, MAX_PROMPTS = 2, 4
MAX_TEMPERATURES = 5  # temperatures in one sweep


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
    num_inference_steps: int = image.diffusion.DEFAULT_STEPS
    guidance_scale: float = image.diffusion.DEFAULT_GUIDANCE_SCALE
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

    @property
    def judged(self) -> bool:
        """Whether the judge checks the results: pictures of our own models, the world it knows (ImageSettings.ours)."""
        return self.modality == "image" and self.image_settings("a prompt").ours

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


def details_honoured(verdicts: list[Verdict]) -> list[tuple[str, int]]:
    """Each detail the pictures were checked for, with the number of pictures that honour it."""
    if not verdicts:
        return []
    return [(first.detail, sum(v.checks[i].honoured for v in verdicts)) for i, first in enumerate(verdicts[0].checks)]


@dataclass
class Column:
    """One prompt's results and scores."""

    prompt: str
    results: list  # PIL pictures (image) or texts (text), one per seed
    specificity: Specificity
    adherence: list[float]  # per result, to the comparison's reference prompt; empty when not measured
    diversity: float | None  # None with one seed
    verdicts: list[Verdict] = field(default_factory=list)  # pictures judged: each one's checks against the reference

    @property
    def mean_adherence(self) -> float | None:
        """Pictures: the mean share of the reference's details honoured; texts: the mean cosine; None: not measured."""
        return sum(self.adherence) / len(self.adherence) if self.adherence else None

    @property
    def mean_honoured(self) -> float | None:
        """The mean number of the reference's details a picture honours; None when none were checked."""
        if not self.adherence or not self.verdicts:
            return None
        return sum(v.honoured for v in self.verdicts) / len(self.verdicts)

    @property
    def details(self) -> list[tuple[str, int]]:
        return details_honoured(self.verdicts)


DIVERSITY_MEASURES = {  # what diversity compares between seeds, in a few words (the tab) -> in full (the JSON, the CLI)
    "meaning, MiniLM": "1 - the cosine of the MiniLM sentence embeddings of two texts, the mean over every pair of seeds",
    "what the judge sees": f"the share of what the judge sees ({', '.join(ASPECTS)}) that differs between two pictures, "
                           "the mean over every pair of seeds",
    "pixels": f"the mean difference of the pixels of two pictures at {SIZE} x {SIZE}, the mean over every pair of seeds",
}


@dataclass
class Comparison:
    settings: CompareSettings
    reference: str  # the most detailed prompt: what adherence measures against
    columns: list[Column]

    @property
    def adherence_measure(self) -> str:
        """What adherence means in this comparison, in words."""
        if self.settings.modality == "text":
            return "the cosine of the MiniLM sentence embeddings of the text and the reference prompt"
        if not self.settings.judged:
            return "not measured: the judge checks only pictures of our own models (gan, diffusion with emoji-diffusion)"
        if not self.columns[0].adherence:
            return "not measured: the reference prompt asks for nothing in the judge's vocabulary"
        return "the share of the reference prompt's details the judge finds honoured in the picture"

    @property
    def diversity_compares(self) -> str:
        """What diversity compares between seeds, in a few words (a key of DIVERSITY_MEASURES)."""
        if self.settings.modality == "text":
            return "meaning, MiniLM"
        return "what the judge sees" if self.settings.judged else "pixels"

    @property
    def diversity_measure(self) -> str:
        """What diversity means in this comparison, in full."""
        return DIVERSITY_MEASURES[self.diversity_compares]

    @property
    def not_checked(self) -> tuple[str, ...]:
        """Words of the reference outside the judge's vocabulary: details no check measures (judged pictures)."""
        return read_prompt(self.reference).unknown if self.settings.judged else ()

    def report(self, files: list[list[str]] | None = None) -> dict:
        """The comparison as JSON-ready data: settings, reference, what adherence measures, and per prompt its scores,
        the judge's checks (judged pictures) and its results (texts, or the pictures' file names when given)."""
        columns = []
        for i, column in enumerate(self.columns):
            mean = column.mean_adherence
            entry = {"prompt": column.prompt, "specificity": column.specificity.as_dict(),
                     "adherence": None if mean is None else round(mean, 4),
                     "adherence_per_seed": [round(a, 4) for a in column.adherence],
                     "diversity": None if column.diversity is None else round(column.diversity, 4)}
            if column.adherence and column.verdicts:
                entry["details_honoured"] = round(column.mean_honoured, 4)
                entry["details"] = [{"detail": d, "pictures_honouring": n} for d, n in column.details]
                entry["checks_per_seed"] = [[asdict(c) for c in v.checks] for v in column.verdicts]
            if self.settings.modality == "text":
                entry["texts"] = column.results
            elif files:
                entry["files"] = [Path(f).name for f in files[i]]
            columns.append(entry)
        return {"settings": self.settings.used(), "reference_prompt": self.reference,
                "adherence_measure": self.adherence_measure,
                "diversity_measure": self.diversity_measure, "not_checked": list(self.not_checked), "columns": columns}


def compare_prompts(prompts: list[str], settings: CompareSettings, base_url: str = "", api_key: str = "") -> Comparison:
    """Run every prompt with the same seeds and settings, and score each against the most detailed one."""
    prompts = check_prompts(prompts)
    settings.check_work(len(prompts), "prompts")
    reference = most_detailed(prompts)
    columns = []
    for prompt, results in zip(prompts, _results(prompts, settings, base_url, api_key)):
        scores = score_results(results, reference, settings.modality, settings.judged)
        columns.append(Column(prompt, results, specificity(prompt), *scores))
    return Comparison(settings, reference, columns)


@dataclass
class PhraseEffect:
    phrase: str  # the detail taken out
    prompt: str  # the prompt without it
    adherence: float  # of its results to the full prompt
    drop: float  # the full prompt's adherence minus this one: how much the detail mattered
    # pictures: the judge's checks honoured by fewer pictures without the detail (detail, pictures with it, without it)
    costs: list[tuple[str, int, int]] = field(default_factory=list)


def _check_measurable(prompt: str, settings: CompareSettings) -> None:
    """Refuse pictures whose adherence nothing measures: the judge knows only our models' world and its words."""
    if settings.modality != "image":
        return
    if not settings.judged:
        raise ValueError(f"which words mattered is measured on pictures by the judge, which knows only our own world: "
                         f"use backend 'gan', or 'diffusion' with {config.OWN_DIFFUSION_MODEL}, got backend "
                         f"{settings.backend!r} with model {settings.image_settings('a prompt').model_name()!r}")
    request = read_prompt(prompt)
    if not (request.things or request.background or request.style):
        raise ValueError(f"prompt {prompt!r} asks for nothing in the judge's vocabulary, so no detail can be checked: "
                         f"name one of the world's objects, e.g. 'a blue cat in the top left corner'")


def words_that_mattered(prompt: str, settings: CompareSettings, base_url: str = "",
                        api_key: str = "") -> tuple[float, list[PhraseEffect]]:
    """The full prompt's adherence, and for each detail phrase the adherence (to the full prompt) of results
    made without it, with the same seeds; for pictures also the judge's checks each detail costs."""
    prompt = check_prompt(prompt)
    details = detail_phrases(prompt)
    if not details:
        raise ValueError(f"prompt {prompt!r} states no detail to take out: try a more detailed prompt, e.g. 'a red apple'")
    _check_measurable(prompt, settings)
    phrases, shorter = [phrase for phrase, _ in details], [without for _, without in details]
    settings.check_work(len(phrases) + 1, "prompts (the full one and one per detail)")
    results = _results([prompt, *shorter], settings, base_url, api_key)
    scored = [Column(p, r, specificity(p), *score_results(r, prompt, settings.modality, settings.judged))
              for p, r in zip([prompt, *shorter], results)]
    full = scored[0].mean_adherence
    effects = []
    for phrase, without, column in zip(phrases, shorter, scored[1:]):
        costs = [(detail, before, after) for (detail, before), (_, after) in zip(scored[0].details, column.details)
                 if after < before]
        effects.append(PhraseEffect(phrase, without, column.mean_adherence, full - column.mean_adherence, costs))
    return full, effects


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

