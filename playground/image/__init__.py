"""Text-to-image: one entry point that checks the settings and dispatches to our GAN, a diffusion pipeline or OpenAI."""

from collections.abc import Callable
from dataclasses import asdict, dataclass

from PIL import Image

from playground import config
from playground.image import diffusion, gan, openai_images
from playground.openai_client import check_endpoint
from playground.validation import check_choice, check_int, check_range, check_text

BACKENDS = ("gan", "diffusion", "openai")
SCHEDULERS = tuple(diffusion.SCHEDULERS)
# The settings each backend uses; the others are left out of the pictures' metadata.
USED_SETTINGS = {
    "gan": ("prompt", "backend", "model", "seed"),
    "diffusion": ("prompt", "negative_prompt", "backend", "model", "seed", "num_inference_steps", "guidance_scale",
                  "scheduler"),
    "openai": ("prompt", "backend", "model"),
}


@dataclass(frozen=True)
class ImageSettings:
    """What to generate; every limit is checked here, whatever the caller (UI, HTTP API, CLI)."""

    prompt: str = ""  # "" asks our models for a random picture
    negative_prompt: str = ""  # what guidance steers away from (diffusion)
    backend: str = "diffusion"
    model: str = ""  # diffusion: "" for ours, a hub id or a folder; openai: a model name; gan: ours only
    seed: int = 0  # picture i uses seed + i
    num_images: int = 4
    num_inference_steps: int = diffusion.DEFAULT_STEPS
    guidance_scale: float = diffusion.DEFAULT_GUIDANCE_SCALE
    scheduler: str = diffusion.DEFAULT_SCHEDULER

    def __post_init__(self) -> None:
        check = object.__setattr__
        check(self, "backend", check_choice("backend", self.backend, BACKENDS))
        check(self, "prompt", check_text("prompt", self.prompt, config.MAX_PROMPT_CHARS, required=self.backend == "openai"))
        check(self, "negative_prompt", check_text("negative_prompt", self.negative_prompt, config.MAX_PROMPT_CHARS,
                                                  required=False))
        check(self, "model", check_text("model", self.model, config.MAX_NAME_CHARS, required=False).strip())
        if self.backend == "gan" and self.model not in ("", "emoji-gan"):
            raise ValueError(f"model must be 'emoji-gan' (or empty) for the gan backend, got {self.model!r}")
        check(self, "seed", check_int("seed", self.seed, 0, config.MAX_SEED))
        check(self, "num_images", check_int("num_images", self.num_images, 1, config.MAX_NUM_IMAGES))
        check(self, "num_inference_steps",
              check_int("num_inference_steps", self.num_inference_steps, 1, config.MAX_INFERENCE_STEPS))
        check(self, "guidance_scale", check_range("guidance_scale", self.guidance_scale, 0.0, config.MAX_GUIDANCE_SCALE))
        check(self, "scheduler", check_choice("scheduler", self.scheduler, SCHEDULERS))

    @property
    def seeds(self) -> list[int]:
        return [(self.seed + i) % (config.MAX_SEED + 1) for i in range(self.num_images)]

    def model_name(self) -> str:
        if self.model:
            return self.model
        return {"gan": "emoji-gan", "diffusion": config.OWN_DIFFUSION_MODEL, "openai": config.DEFAULT_OPENAI_IMAGE_MODEL}[
            self.backend
        ]

    @property
    def ours(self) -> bool:
        """Whether our own models draw the pictures: pictures of the world the judge knows (playground.image.world)."""
        return self.backend == "gan" or self.backend == "diffusion" and self.model_name() == config.OWN_DIFFUSION_MODEL

    def for_image(self, seed: int) -> dict:
        """The settings that remake one picture (its own seed), as stored in its PNG."""
        values = {**asdict(self), "model": self.model_name(), "seed": seed}
        return {key: values[key] for key in USED_SETTINGS[self.backend]}


@dataclass
class GeneratedImages:
    images: list[Image.Image]
    settings: list[dict]  # one per picture: what remakes it
    timeline: diffusion.Timeline | None = None  # diffusion only: what the model expected at a few steps


def generate_image(
    settings: ImageSettings,
    on_step: Callable[[int, int], None] | None = None,
    base_url: str = "",
    api_key: str = "",
) -> GeneratedImages:
    """Pictures for the settings; on_step(done, total) reports denoising progress."""
    base_url, api_key = check_endpoint(base_url, api_key)
    if settings.backend == "gan":
        images = gan.generate_pictures([settings.prompt] * settings.num_images, settings.seeds)
        return GeneratedImages(images, [settings.for_image(s) for s in settings.seeds])
    if settings.backend == "openai":
        images = openai_images.generate_pictures(
            settings.prompt, settings.num_images, settings.model_name(), base_url, api_key
        )
        return GeneratedImages(images, [settings.for_image(0) for _ in images])
    loaded = diffusion.load_pipeline(settings.model)
    images, timeline = diffusion.run_pipeline(
        loaded, [settings.prompt] * settings.num_images, settings.negative_prompt, settings.seeds, settings.num_inference_steps,
        settings.guidance_scale, settings.scheduler, on_step,
    )
    return GeneratedImages(images, [settings.for_image(s) for s in settings.seeds], timeline)


def generate_batch(settings: ImageSettings, prompts: list[str], seeds: list[int], plan_layout: bool = True
                   ) -> list[Image.Image]:
    """One picture per (prompt, seed) pair with the other settings shared, in batches of MAX_NUM_IMAGES.

    What evaluations and comparisons use: many prompts at once cost less than one call each.
    Only our own models (gan, diffusion) take several prompts per batch; plan_layout=False measures our diffusion
    model without the layout the app plans for a prompt of several objects (playground.image.planner).
    """
    if len(prompts) != len(seeds):
        raise ValueError(f"prompts and seeds must pair up, got {len(prompts)} prompts and {len(seeds)} seeds")
    if settings.backend == "openai":
        raise ValueError("backend must be 'gan' or 'diffusion' for a batch of prompts, got 'openai'")
    for prompt in prompts:
        check_text("prompt", prompt, config.MAX_PROMPT_CHARS, required=False)
    for seed in seeds:
        check_int("seed", seed, 0, config.MAX_SEED)
    pictures: list[Image.Image] = []
    step = config.MAX_NUM_IMAGES
    for start in range(0, len(prompts), step):
        part, part_seeds = prompts[start : start + step], seeds[start : start + step]
        if settings.backend == "gan":
            pictures += gan.generate_pictures(part, part_seeds)
        else:
            pictures += diffusion.run_pipeline(
                diffusion.load_pipeline(settings.model), part, settings.negative_prompt, part_seeds,
                settings.num_inference_steps, settings.guidance_scale, settings.scheduler, plan_layout=plan_layout,
            )[0]
    return pictures
