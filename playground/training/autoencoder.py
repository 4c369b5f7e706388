"""Train the world model's autoencoder: 64 px pictures of the world to 16 x 16 x 8 latents and back.

    python -m playground.training.autoencoder --out DIR [--steps 5000 --batch-size 32 --threads 2] [--init FOLDER]
    python -m playground.training.autoencoder --out DIR --measure [--prompts 10]

Stable Diffusion's recipe at our scale: a diffusers AutoencoderKL (playground.image.diffusion.autoencoder_config;
a small KL term keeps its latents near a unit Gaussian, where the diffusion model starts) trained on fresh scenes of
the world in every training style (playground.training.scenes). The loss is the mean absolute error of the pixels
plus the same on their horizontal and vertical differences, which weighs edges: the pixels' error alone lets
12-pixel objects blur, and no perceptual network (VGG) exists here to do that job. The learning rate warms up over
100 steps and drops to a fifth for the last 15 %. The exported folder DIR/vae holds the weights of an exponential
moving average, with the scaling factor that gives the latents of a batch a spread of 1; the diffusion trainer
(playground.training.diffusion --autoencoder DIR/vae) and the pipeline read it. A run resumes from DIR/checkpoint;
on a machine without it, --init continues from an exported autoencoder (the shipped assets/models/emoji-diffusion/vae)
with a fresh optimizer.

--measure runs the image benchmark's prompts (playground.training.evaluate) on real scenes and on their round
trips through the autoencoder: what the judge still finds after the round trip is the most a diffusion model on
these latents can score.
"""

import random
import sys
from pathlib import Path

import torch
from diffusers import AutoencoderKL
from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution

from playground.image.diffusion import autoencoder_config
from playground.precision import autocast
from playground.training import evaluate, loop
from playground.training.emoji_styles import TRAINING_STYLES
from playground.training.scenes import load_world_sprites, render, sample_scene

EMA_DECAY = 0.999
EDGE_WEIGHT = 1.0
KL_WEIGHT = 1e-6
WARMUP_STEPS = 100
LAST_SHARE, LAST_LR = 0.15, 0.2  # the last 15 % of the steps at a fifth of the learning rate
VAE_FOLDER = "vae"


def differences(pictures: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Horizontal and vertical neighbour differences: where the edges are."""
    return pictures[..., :, 1:] - pictures[..., :, :-1], pictures[..., 1:, :] - pictures[..., :-1, :]


def encoded(vae: AutoencoderKL, pictures: torch.Tensor) -> DiagonalGaussianDistribution:
    """The distribution of the latents of pictures in [0, 1] (the autoencoder reads them in [-1, 1])."""
    return vae.encode(pictures * 2 - 1).latent_dist


def losses(vae: AutoencoderKL, pictures: torch.Tensor) -> dict[str, torch.Tensor]:
    """The three parts of the loss for pictures in [0, 1], in float32 also under autocast."""
    with autocast(pictures.device.type):
        posterior = encoded(vae, pictures)
        rebuilt = vae.decode(posterior.sample()).sample.float() / 2 + 0.5
    edges = sum((a - b).abs().mean() for a, b in zip(differences(rebuilt), differences(pictures), strict=True))
    return {"pixels": (rebuilt - pictures).abs().mean(), "edges": EDGE_WEIGHT * edges,
            "kl": KL_WEIGHT * posterior.kl().float().mean()}


@torch.no_grad()
def round_trip(vae: AutoencoderKL, pictures: torch.Tensor) -> torch.Tensor:
    """Pictures in [0, 1] encoded (the latents' means) and decoded."""
    return (vae.decode(encoded(vae, pictures).mean).sample / 2 + 0.5).clamp(0, 1)


@torch.no_grad()
def export(vae: AutoencoderKL, pictures: torch.Tensor, folder: Path) -> None:
    """Save the autoencoder with the scaling factor that gives the latents of these pictures a spread of 1."""
    latents = encoded(vae, pictures).mean
    vae.register_to_config(scaling_factor=float(1 / latents.std()))
    vae.save_pretrained(folder, safe_serialization=True)


def measure(vae: AutoencoderKL, prompts_per_task: int) -> str:
    """The benchmark's table for real scenes and for their round trips through the autoencoder."""
    world = load_world_sprites(TRAINING_STYLES)
    prompts = evaluate.task_prompts(world, prompts_per_task)
    real = {task: evaluate.real_pictures(world, texts) for task, texts in prompts.items()}
    rebuilt = {task: round_trip(vae, pictures) for task, pictures in real.items()}
    error = torch.cat([(rebuilt[t] - real[t]).abs().flatten() for t in real]).mean().item()
    return (evaluate.table({"real": evaluate.score(prompts, real), "after the autoencoder": evaluate.score(prompts, rebuilt)})
            + f"\nmean absolute error of the round trips: {error:.4f}")


def main(argv: list[str] | None = None) -> int:
    parser = loop.parser("python -m playground.training.autoencoder", __doc__.splitlines()[0])
    parser.set_defaults(steps=5000, batch_size=32, lr=5e-4, checkpoint_every=250)
    parser.add_argument("--init", type=Path, help="an exported autoencoder folder to continue from (weights only)")
    parser.add_argument("--measure", action="store_true", help="measure the exported autoencoder with the benchmark")
    parser.add_argument("--prompts", type=int, default=10, help="with --measure: prompts per task")
    args = parser.parse_args(argv)
    generator = loop.seeded(args)
    if args.measure:
        print(measure(AutoencoderKL.from_pretrained(args.out / VAE_FOLDER).eval(), args.prompts))
        return 0
    world = load_world_sprites(TRAINING_STYLES)
    vae = AutoencoderKL.from_pretrained(args.init) if args.init else AutoencoderKL(**autoencoder_config(args.tiny))
    vae = vae.to(args.device)
    ema = loop.EMA(vae, EMA_DECAY)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=args.lr, weight_decay=1e-4)
    modules = {"model": vae, "ema": ema.model}
    step = loop.load_checkpoint(args.out, modules, {"optimizer": optimizer}, generator)
    loop.announce("autoencoder", vae, f"{len(world.sprites)} sprites" + (f", from {args.init}" if args.init else ""), step)
    progress = loop.Progress(every=50)
    while step < args.steps:
        rng = random.Random(f"{args.seed}/{step}")  # each step's scenes: a resumed run draws what it would have drawn
        pictures = torch.stack([render(sample_scene(rng, world), world) for _ in range(args.batch_size)]).to(args.device)
        for group in optimizer.param_groups:
            group["lr"] = args.lr * min(1.0, (step + 1) / WARMUP_STEPS) * (LAST_LR if step >= (1 - LAST_SHARE) * args.steps else 1)
        parts = losses(vae, pictures)
        loop.optimizer_step(optimizer, sum(parts.values()), vae)
        step += 1
        ema.update(vae, step)
        progress.log(step, **{name: value.item() for name, value in parts.items()})
        if step % args.checkpoint_every == 0 or step == args.steps:
            loop.save_checkpoint(args.out, step, modules, {"optimizer": optimizer}, generator,
                                 {"batch_size": args.batch_size, "lr": args.lr})
            export(ema.model, pictures, args.out / VAE_FOLDER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
