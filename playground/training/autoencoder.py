"""Train the autoencoder of our latent diffusion model: 64 x 64 pictures of the world to 16 x 16 x 4 latents and back.

    python -m playground.training.autoencoder --out DIR [--steps 4000 --batch-size 32 --threads 1]
    python -m playground.training.autoencoder --out DIR --measure   (what the judge still sees after a round trip)

Stable Diffusion's recipe at our scale: a diffusers AutoencoderKL (a variational autoencoder, a small KL term keeps
its latents near a unit Gaussian, which the diffusion model starts from) trained on fresh scenes of the world in
every training style (playground.training.scenes). The loss: the mean absolute error of the pixels, plus the same
on their horizontal and vertical differences, which weighs edges: the L1 of pixels alone lets 12-pixel objects
blur, and no perceptual network (VGG) exists here to do that job. The latents are 12 times smaller than the
pixels, so the diffusion model works on 16 x 16 positions. The exported folder (DIR/vae) is what the pipeline's
vae/ holds; its scaling_factor makes the latents' spread 1.

--measure runs the judge (playground.image.judge) on held-out scenes and on their round trips through the
autoencoder: a good autoencoder loses nothing the judge checks.
"""

import json
import random
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL

from playground import config
from playground.image.judge import load_judge
from playground.training import loop
from playground.training.emoji_styles import TRAINING_STYLES
from playground.training.judge import measure
from playground.training.scenes import load_world_sprites, render, sample_scene

EMA_DECAY = 0.999
EDGE_WEIGHT = 1.0
KL_WEIGHT = 1e-6
VAE_FOLDER = "vae"


def autoencoder_config(tiny: bool) -> dict:
    """Three blocks (two halvings: 64 -> 16) and 4 latent channels; tiny for tests."""
    return dict(in_channels=3, out_channels=3, latent_channels=4, sample_size=64, layers_per_block=1,
                down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
                block_out_channels=(8, 8, 16) if tiny else (32, 64, 128), norm_num_groups=8 if tiny else 32)


def differences(pictures: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Horizontal and vertical neighbour differences: where the edges are."""
    return pictures[..., :, 1:] - pictures[..., :, :-1], pictures[..., 1:, :] - pictures[..., :-1, :]


def losses(vae: AutoencoderKL, pictures: torch.Tensor) -> dict[str, torch.Tensor]:
    posterior = vae.encode(pictures * 2 - 1).latent_dist
    rebuilt = vae.decode(posterior.sample()).sample.float() / 2 + 0.5  # the losses in float32, also under autocast
    edges = sum((a - b).abs().mean() for a, b in zip(differences(rebuilt), differences(pictures), strict=True))
    return {"pixels": (rebuilt - pictures).abs().mean(), "edges": EDGE_WEIGHT * edges,
            "kl": KL_WEIGHT * posterior.kl().float().mean()}


@torch.no_grad()
def round_trip(vae: AutoencoderKL, pictures: torch.Tensor) -> torch.Tensor:
    """Pictures in [0, 1] encoded (the latents' means) and decoded."""
    return (vae.decode(vae.encode(pictures * 2 - 1).latent_dist.mean).sample / 2 + 0.5).clamp(0, 1)


@torch.no_grad()
def export(vae: AutoencoderKL, pictures: torch.Tensor, folder: Path) -> None:
    """Save vae/ with the scaling factor that gives the latents of these pictures a spread of 1."""
    latents = vae.encode(pictures * 2 - 1).latent_dist.mean
    vae.register_to_config(scaling_factor=float(1 / latents.std()))
    vae.save_pretrained(folder, safe_serialization=True)


def main(argv: list[str] | None = None) -> int:
    parser = loop.parser("python -m playground.training.autoencoder", __doc__.splitlines()[0], captioned=False)
    parser.set_defaults(steps=4000, batch_size=32, lr=5e-4, checkpoint_every=200)
    parser.add_argument("--measure", action="store_true", help="measure the exported autoencoder with the judge")
    parser.add_argument("--scenes", type=int, default=400, help="held-out scenes measured")
    parser.add_argument("--cache-dir", type=Path, default=config.CACHE_DIR)
    args = parser.parse_args(argv)
    generator = loop.seeded(args)
    world = load_world_sprites(TRAINING_STYLES, args.cache_dir)
    if args.measure:
        vae = AutoencoderKL.from_pretrained(args.out / VAE_FOLDER).eval()
        judge = load_judge(config.JUDGE_MODEL_DIR)
        print(json.dumps({"real scenes": measure(judge, world, args.scenes, 1, True),
                          "after the autoencoder": measure(judge, world, args.scenes, 1, True,
                                                           lambda p: round_trip(vae, p))}, indent=1))
        return 0
    vae = AutoencoderKL(**autoencoder_config(args.tiny)).to(args.device)
    ema = loop.EMA(vae, EMA_DECAY)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=args.lr, weight_decay=1e-4)
    modules = {"model": vae, "ema": ema.model}
    step = loop.load_checkpoint(args.out, modules, {"optimizer": optimizer}, generator)
    rng = random.Random(args.seed + step)
    loop.announce("autoencoder", vae, f"{len(world.sprites)} sprites", step)
    progress = loop.Progress(every=50)
    while step < args.steps:
        pictures = torch.stack([render(sample_scene(rng, world), world) for _ in range(args.batch_size)]).to(args.device)
        for group in optimizer.param_groups:
            group["lr"] = args.lr * min(1.0, (step + 1) / 100) * (0.1 if step > 0.8 * args.steps else 1.0)
        with loop.autocast(args.device):
            parts = losses(vae, pictures)
        loss = sum(parts.values())
        loop.optimizer_step(optimizer, loss, vae)
        step += 1
        ema.update(vae, step)
        progress.log(step, **{name: value.item() for name, value in parts.items()})
        if step % args.checkpoint_every == 0 or step == args.steps:
            loop.save_checkpoint(args.out, step, modules, {"optimizer": optimizer}, generator, {"loss": loss.item()})
            export(ema.model, pictures, args.out / VAE_FOLDER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
