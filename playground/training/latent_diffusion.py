"""Train the latent diffusion model of the world: a diffusers UNet2DConditionModel on the autoencoder's latents.

    python -m playground.training.latent_diffusion --out DIR --vae DIR/vae [--steps 40000 --batch-size 64 --threads 2]

Every batch is fresh scenes of the world (playground.training.scenes, training split: the held-out combinations
never appear), captioned at a random level of detail, so the model learns what each word adds; one caption in
ten is the empty prompt, for classifier-free guidance. The pictures go through the frozen autoencoder
(playground.training.autoencoder) to 16 x 16 x 4 latents; the captions through the frozen MiniLM to token states,
which the UNet reads by cross-attention at 16 x 16 and 8 x 8, so each word can act where its object is ("a blue
heart and a red star" binds each colour to its own object). The objective is the v-parameterisation of DDPM on a
cosine schedule, as for the pixel-space model. The weights of an exponential moving average are exported as a
pipeline folder (unet/, vae/, scheduler/) that TextToImagePipeline.from_pretrained loads.
"""

import random
import sys
from pathlib import Path

import torch
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel

from playground.image.diffusion import BETA_SCHEDULE, TRAIN_TIMESTEPS, TextToImagePipeline, latent_unet_config
from playground.image.text_encoder import encode
from playground.training import loop
from playground.training.diffusion import v_loss
from playground.training.emoji_styles import TRAINING_STYLES
from playground.training.scenes import CAPTION_LEVELS, caption, load_world_sprites, render, sample_scene

CAPTION_DROPOUT = 0.1  # share of captions replaced by "" (the unconditional prompt for guidance)
LEVEL_WEIGHTS = (0.05, 0.15, 0.2, 0.25, 0.35)  # how often each caption level is drawn: detail is what is hard
EMA_DECAY = 0.999
WARMUP_STEPS = 500


def export(out: Path, unet: UNet2DConditionModel, vae: AutoencoderKL, scheduler: DDPMScheduler) -> None:
    """The pipeline folder; the UNet in float16 (half the size, and it loads as float32)."""
    half = UNet2DConditionModel.from_config(unet.config)
    half.load_state_dict(unet.state_dict())
    TextToImagePipeline(unet=half.half(), scheduler=scheduler, vae=vae).save_pretrained(out, safe_serialization=True)


def batch(rng: random.Random, world, size: int) -> tuple[torch.Tensor, list[str]]:
    """Pictures in [0, 1] of fresh training scenes and their captions (some empty)."""
    scenes = [sample_scene(rng, world) for _ in range(size)]
    captions = ["" if rng.random() < CAPTION_DROPOUT else
                caption(s, rng.choices(range(CAPTION_LEVELS), LEVEL_WEIGHTS)[0], rng) for s in scenes]
    return torch.stack([render(s, world) for s in scenes]), captions


def main(argv: list[str] | None = None) -> int:
    parser = loop.parser("python -m playground.training.latent_diffusion", __doc__.splitlines()[0], captioned=False)
    parser.set_defaults(steps=40_000, batch_size=64, lr=4e-4, checkpoint_every=200)
    parser.add_argument("--vae", type=Path, required=True, help="the autoencoder folder (training.autoencoder's DIR/vae)")
    args = parser.parse_args(argv)
    generator = loop.seeded(args)
    world = load_world_sprites(TRAINING_STYLES)
    vae = AutoencoderKL.from_pretrained(args.vae).eval().requires_grad_(False).to(args.device)
    unet = UNet2DConditionModel(**latent_unet_config(args.tiny)).to(args.device)
    scheduler = DDPMScheduler(num_train_timesteps=TRAIN_TIMESTEPS, beta_schedule=BETA_SCHEDULE, prediction_type="v_prediction")
    ema = loop.EMA(unet, EMA_DECAY)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.01)
    step = loop.load_checkpoint(args.out, {"unet": unet, "ema": ema.model}, {"optimizer": optimizer}, generator)
    rng = random.Random(args.seed + step)
    loop.announce("UNet", unet, f"{len(world.sprites)} sprites", step)
    alphas = scheduler.alphas_cumprod.to(args.device)
    progress = loop.Progress()
    unet.train()
    while step < args.steps:
        pictures, captions = batch(rng, world, args.batch_size)
        text = encode(captions)
        with torch.no_grad():
            clean = vae.encode(pictures.to(args.device) * 2 - 1).latent_dist.sample(generator) * vae.config.scaling_factor
        for group in optimizer.param_groups:
            group["lr"] = args.lr * min(1.0, (step + 1) / WARMUP_STEPS)
        loss = v_loss(unet, clean, text.token_states.to(args.device), text.attention_mask.to(args.device), alphas, generator)
        loop.optimizer_step(optimizer, loss, unet)
        step += 1
        ema.update(unet, step)
        progress.log(step, loss=loss.item())
        if step % args.checkpoint_every == 0 or step == args.steps:
            loop.save_checkpoint(args.out, step, {"unet": unet, "ema": ema.model}, {"optimizer": optimizer}, generator,
                                 {"loss": loss.item(), "batch_size": args.batch_size, "lr": args.lr})
            export(args.out, ema.model, vae, scheduler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
