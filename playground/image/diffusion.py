"""Diffusion backend: our text-to-image pipelines and any diffusers pipeline, loaded the same way.

Our model (assets/models/emoji-diffusion, trained by playground.training.diffusion) is a diffusers pipeline folder
with model_index.json, a latent diffusion model of the world's 64 px scenes, as Stable Diffusion is: an autoencoder
trained here (vae/, playground.training.autoencoder) turns a picture into 16 x 16 latents of 8 channels and back,
and a UNet2DConditionModel denoises the latents, so it computes at 16 x 16 positions and leaves the fine detail of
edges to the decoder. Hub models (e.g. stabilityai/sd-turbo) load through DiffusionPipeline.from_pretrained; all
share the schedulers and the step callback that records the denoising timeline.
"""

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from diffusers import (
    AutoencoderKL,
    DDIMScheduler,
    DDPMScheduler,
    DiffusionPipeline,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
    ImagePipelineOutput,
    UNet2DConditionModel,
)
from diffusers.schedulers import KarrasDiffusionSchedulers
from diffusers.utils.torch_utils import randn_tensor
from PIL import Image
from transformers import BertModel, PreTrainedTokenizerBase

from playground import config, registry
from playground.hub import first_line, hub_source
from playground.image import planner, world
from playground.image.text_encoder import EMBEDDING_DIM, TextEncoder, encode, load_text_encoder
from playground.precision import autocast
from playground.validation import check_offered_model

TRAIN_TIMESTEPS = 1000
BETA_SCHEDULE = "squaredcos_cap_v2"  # the cosine schedule: better than linear for small images
LATENT_CHANNELS = 8  # the world model's autoencoder: a 64 px picture is 16 x 16 latents of 8 channels
HALVINGS = 2  # the world model's autoencoder halves a picture's side this many times
LATENT_SIZE = world.SIZE // 2 ** HALVINGS  # the side of the latents the world model's UNet denoises
DEFAULT_STEPS = 20
DEFAULT_GUIDANCE_SCALE = 5.0  # the benchmark (evaluate --prompts 20): 0.45 overall at 5, 0.40 at 3; 7 and 9 no better


def autoencoder_config(tiny: bool = False) -> dict:
    """The world model's autoencoder, a diffusers AutoencoderKL: two halvings, 64 px pictures to 16 x 16 x 8 latents
    (6 times fewer values), so the UNet works on 16 x 16 positions (tiny: for tests)."""
    return dict(in_channels=3, out_channels=3, latent_channels=LATENT_CHANNELS, sample_size=world.SIZE,
                layers_per_block=1, down_block_types=("DownEncoderBlock2D",) * (HALVINGS + 1),
                up_block_types=("UpDecoderBlock2D",) * (HALVINGS + 1),
                block_out_channels=(8, 8, 16) if tiny else (32, 64, 128), norm_num_groups=8 if tiny else 16)


def unet_config(tiny: bool = False) -> dict:
    """The world model's UNet on the autoencoder's 16 x 16 latents: cross-attention at 16 x 16 and 8 x 8, where the
    objects are, so each word can act at its object's place; and the prompt's sentence embedding added to the
    timestep's, so every block knows the whole prompt, as a class label tells a class-conditional model what to
    draw (tiny: for tests)."""
    widths, groups, heads = ((16, 32, 32), 8, 2) if tiny else ((64, 128, 192), 32, 4)
    return dict(
        sample_size=LATENT_SIZE,
        in_channels=LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS,
        block_out_channels=widths,
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=EMBEDDING_DIM,
        attention_head_dim=heads,
        norm_num_groups=groups,
        class_embed_type="projection",
        projection_class_embeddings_input_dim=EMBEDDING_DIM,
    )


class TextToImagePipeline(DiffusionPipeline):
    """Text to a small picture with classifier-free guidance, in the numbered steps of a diffusers pipeline.

    The UNet denoises the autoencoder's latents, which its decoder turns into the picture. A prompt of several
    objects is drawn in a layout (playground.image.planner; plan_layout=False: the model alone): each object's
    region is predicted with that object's own words. The frozen text encoder and tokenizer are not part of the saved
    folder (they ship in their own package): pass them to from_pretrained.
    """

    model_cpu_offload_seq = "text_encoder->unet->vae"
    _optional_components = ["text_encoder", "tokenizer"]
    _callback_tensor_inputs = ["latents", "predicted_original"]

    def __init__(self, unet: UNet2DConditionModel, scheduler: KarrasDiffusionSchedulers, vae: AutoencoderKL,
                 text_encoder: BertModel | None = None, tokenizer: PreTrainedTokenizerBase | None = None):
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer)

    @property
    def image_size(self) -> int:
        return self.unet.config.sample_size * 2 ** (len(self.vae.config.block_out_channels) - 1)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Pictures in [0, 1] from the latents the UNet denoises, through the autoencoder's decoder."""
        decoded = self.vae.decode(latents.to(self.vae.dtype) / self.vae.config.scaling_factor).sample
        return (decoded.float() / 2 + 0.5).clamp(0, 1)

    def _predicted_original(self, model_input: torch.Tensor, output: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The clean picture the model sees through the noise at step t (for the timeline; any scheduler).

        model_input is the noisy picture at the variance-preserving scale, whatever the scheduler.
        """
        alpha = self.scheduler.alphas_cumprod[int(t.round())].to(model_input.dtype)
        kind = self.scheduler.config.prediction_type
        if kind == "v_prediction":
            return alpha.sqrt() * model_input - (1 - alpha).sqrt() * output
        if kind == "sample":
            return output
        return (model_input - (1 - alpha).sqrt() * output) / alpha.sqrt()

    @torch.no_grad()
    def __call__(
        self,
        prompt: str | list[str],
        negative_prompt: str | list[str] | None = None,
        num_images_per_prompt: int = 1,
        num_inference_steps: int = DEFAULT_STEPS,
        guidance_scale: float = DEFAULT_GUIDANCE_SCALE,
        plan_layout: bool = True,
        generator: torch.Generator | None = None,
        output_type: str = "pil",
        callback_on_step_end: Callable[..., dict] | None = None,
        callback_on_step_end_tensor_inputs: list[str] = ("latents",),
        return_dict: bool = True,
    ) -> ImagePipelineOutput | tuple:
        # 1. Check inputs
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        negatives = [negative_prompt or ""] * len(prompts) if not isinstance(negative_prompt, list) else negative_prompt
        if len(negatives) != len(prompts):
            raise ValueError(f"negative_prompt has {len(negatives)} entries for {len(prompts)} prompts")
        unknown = set(callback_on_step_end_tensor_inputs) - set(self._callback_tensor_inputs)
        if unknown:
            raise ValueError(f"callback tensor inputs must be among {self._callback_tensor_inputs}, got {sorted(unknown)}")
        guided = guidance_scale > 1.0
        device = self._execution_device

        # 2. Plan the layouts: a region per object of a prompt of several (plan_layout), else one region, the whole
        # picture, with the whole prompt; then encode the regions' prompts (and the negative prompts, the
        # "unconditional" half of guidance)
        side = self.unet.config.sample_size
        pictures = [p for p in prompts for _ in range(num_images_per_prompt)]
        texts, owners, region_masks = [], [], []
        for index, picture_prompt in enumerate(pictures):
            regions = planner.plan(picture_prompt) if plan_layout else []
            texts += [r.prompt for r in regions] or [picture_prompt]
            owners += [index] * max(1, len(regions))
            region_masks.append(planner.region_masks(regions, side) if regions else torch.ones(1, side, side))
        owners = torch.tensor(owners, device=device)  # the picture of each region
        masks = torch.cat(region_masks)[:, None].to(device)
        if guided:
            texts = [n for n in negatives for _ in range(num_images_per_prompt)] + texts
        encoder = TextEncoder(self.text_encoder, self.tokenizer)
        encoding = encode(texts, encoder)
        states, mask = encoding.token_states.to(self.unet.dtype), encoding.attention_mask
        sentence = encoding.sentence.to(self.unet.dtype)  # the UNet's class embedding: the whole prompt (or region's)

        # 3. Prepare the starting noise
        batch = len(pictures)
        shape = (batch, self.unet.config.in_channels, side, side)
        latents = randn_tensor(shape, generator=generator, device=device, dtype=self.unet.dtype)
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        latents = latents * self.scheduler.init_noise_sigma

        # 4. Denoise
        for i, t in enumerate(self.progress_bar(self.scheduler.timesteps)):
            model_input = self.scheduler.scale_model_input(latents, t)
            inputs = torch.cat([model_input, model_input[owners]]) if guided else model_input[owners]
            with autocast(device):  # bfloat16 where the hardware computes it
                output = self.unet(inputs, t, encoder_hidden_states=states, encoder_attention_mask=mask,
                                   class_labels=sentence).sample.float()
            # each region's prediction, kept inside its region
            conditional = torch.zeros_like(output[:batch]).index_add_(0, owners, output[-len(owners):] * masks)
            if guided:
                output = output[:batch] + guidance_scale * (conditional - output[:batch])
            else:
                output = conditional
            if callback_on_step_end is not None:
                tensors = {"latents": latents, "predicted_original": self._predicted_original(model_input, output, t)}
                callback_on_step_end(self, i, t, {k: tensors[k] for k in callback_on_step_end_tensor_inputs})
            latents = self.scheduler.step(output, t, latents, generator=generator).prev_sample

        # 5. Decode
        images = self.decode(latents)

        # 6. Post-process
        if output_type != "pt":
            images = images.cpu().permute(0, 2, 3, 1).float().numpy()
            if output_type == "pil":
                images = self.numpy_to_pil(images)
        self.maybe_free_model_hooks()
        return ImagePipelineOutput(images=images) if return_dict else (images,)


# Loading and running any pipeline


SCHEDULERS = {
    "dpm++": DPMSolverMultistepScheduler,  # DPM-Solver++ (2nd order): good pictures in 10-20 steps
    "euler": EulerDiscreteScheduler,
    "ddim": DDIMScheduler,
    "ddpm": DDPMScheduler,  # the original: needs hundreds of steps
}
DEFAULT_SCHEDULER = "dpm++"
TIMELINE_FRAMES = 8  # at most this many steps of a run kept for the denoising timeline, the final pictures included


@dataclass
class LoadedPipeline:
    name: str
    pipeline: DiffusionPipeline
    lock: threading.Lock  # diffusers pipelines are not thread-safe: one request at a time per instance


def _pipeline_folder(model: str) -> Path | None:
    if model in ("", config.OWN_DIFFUSION_MODEL):
        return config.DIFFUSION_MODEL_DIR
    folder = Path(model).expanduser()
    return folder if folder.is_dir() else None


def _load(model: str) -> LoadedPipeline:
    folder = _pipeline_folder(model)
    try:
        if folder is None:
            hint = f"our model {config.OWN_DIFFUSION_MODEL!r} works offline"
            pipeline = DiffusionPipeline.from_pretrained(model, **hub_source(model, "model_index.json", hint))
        else:
            index = folder / "model_index.json"
            if not index.is_file():
                raise ValueError(f"model folder {model!r} has no model_index.json, so it holds no diffusers pipeline")
            if json.loads(index.read_text()).get("_class_name") == TextToImagePipeline.__name__:
                encoder = load_text_encoder()
                pipeline = TextToImagePipeline.from_pretrained(folder, text_encoder=encoder.model, tokenizer=encoder.tokenizer)
            else:
                pipeline = DiffusionPipeline.from_pretrained(folder)
    except ValueError:
        raise
    except Exception as error:  # whatever a folder or repository holds, the caller gets one readable line
        raise ValueError(f"model {model!r} could not be loaded as a diffusers pipeline: {first_line(error)}") from None
    pipeline.set_progress_bar_config(disable=True)
    return LoadedPipeline(model or config.OWN_DIFFUSION_MODEL, pipeline.to(config.DEVICE), threading.Lock())


def load_pipeline(model: str) -> LoadedPipeline:
    """The pipeline called model ("" for ours), loaded once and shared."""
    check_offered_model(model or config.OWN_DIFFUSION_MODEL, [config.OWN_DIFFUSION_MODEL, *config.IMAGE_HUB_MODELS])
    return registry.load(("diffusion", model or config.OWN_DIFFUSION_MODEL), lambda: _load(model))


@torch.no_grad()
def _decode_for_timeline(pipeline: DiffusionPipeline, held: torch.Tensor) -> list[Image.Image]:
    """Pictures of what the pipeline held at a step: our model's prediction, or a hub pipeline's latents, each through
    its VAE."""
    if isinstance(pipeline, TextToImagePipeline):
        pictures = pipeline.decode(held)
    else:
        latents = held / pipeline.vae.config.scaling_factor
        pictures = (pipeline.vae.decode(latents.to(pipeline.vae.dtype)).sample / 2 + 0.5).clamp(0, 1)
    return DiffusionPipeline.numpy_to_pil(pictures.permute(0, 2, 3, 1).float().cpu().numpy())


@dataclass
class Timeline:
    """The denoising timeline of one run: what the model expected the pictures to become at a few of its steps, the
    last being the final pictures.

    The steps before the last are kept as the tensors the pipeline held and decoded the first time they are looked
    at: a decode of the batch costs about what a denoising step does, and most runs are never scrubbed through.
    """

    model: str  # the pipeline that made them (its name for load_pipeline): it decodes them
    steps: list[int]
    held: list[torch.Tensor]  # for each step but the last
    final: list[Image.Image]
    decoded: dict[int, list[Image.Image]] = field(default_factory=dict, repr=False)

    def pictures(self, index: int) -> list[Image.Image]:
        """The pictures at self.steps[index]."""
        if index == len(self.steps) - 1:
            return self.final
        if index not in self.decoded:
            loaded = load_pipeline(self.model)
            with loaded.lock:
                self.decoded[index] = _decode_for_timeline(loaded.pipeline, self.held[index])
        return self.decoded[index]


def run_pipeline(
    loaded: LoadedPipeline,
    prompts: list[str],
    negative_prompt: str,
    seeds: list[int],
    num_inference_steps: int,
    guidance_scale: float,
    scheduler: str,
    on_step: Callable[[int, int], None] | None = None,
    plan_layout: bool = True,
) -> tuple[list[Image.Image], Timeline]:
    """One picture per (prompt, seed) pair, and the timeline of every few steps (steps only where there is a VAE).

    plan_layout=False: our model draws a prompt of several objects without a layout (to measure what it does alone).
    """
    pipeline = loaded.pipeline
    every = math.ceil(num_inference_steps / TIMELINE_FRAMES)
    ours = isinstance(pipeline, TextToImagePipeline)
    decodable = ours or getattr(pipeline, "vae", None) is not None
    steps: list[int] = []
    held: list[torch.Tensor] = []

    def step_end(pipe: DiffusionPipeline, i: int, t: torch.Tensor, tensors: dict) -> dict:
        if on_step is not None:
            on_step(i + 1, num_inference_steps)
        if decodable and (i + 1) % every == 0 and i + 1 < num_inference_steps:
            steps.append(i + 1)
            held.append(tensors["predicted_original" if ours else "latents"].detach().clone())
        return tensors

    kwargs = {"plan_layout": plan_layout} if ours else {}
    if negative_prompt:
        kwargs["negative_prompt"] = [negative_prompt] * len(prompts)
    with loaded.lock:
        pipeline.scheduler = SCHEDULERS[scheduler].from_config(pipeline.scheduler.config)
        try:
            if on_step is not None:  # our turn has come: a caller that went away while it waited stops before any step
                on_step(0, num_inference_steps)
            images = pipeline(
                prompt=prompts,
                num_images_per_prompt=1,
                num_inference_steps=num_inference_steps,
                guidance_scale=guidance_scale,
                generator=[torch.Generator().manual_seed(s) for s in seeds],
                callback_on_step_end=step_end,
                callback_on_step_end_tensor_inputs=["predicted_original" if ours else "latents"],
                **kwargs,
            ).images
        except ValueError:
            raise
        except Exception as error:
            raise ValueError(f"model {loaded.name!r} failed to generate: {first_line(error)}") from None
    return images, Timeline(loaded.name, [*steps, num_inference_steps], held, images)
