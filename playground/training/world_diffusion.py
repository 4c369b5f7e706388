"""Train the diffusion model of the world: a diffusers UNet2DConditionModel on 64 px scenes folded into 4 x 4 cells.

    python -m playground.training.world_diffusion --out DIR [--steps 40000 --batch-size 64 --threads 2]

Every batch is fresh scenes of the world (playground.training.scenes, training split: the held-out combinations
never appear), captioned at a random level of detail, so the model learns what each word adds; one caption in
ten is the empty prompt, for classifier-free guidance. The captions go through the frozen MiniLM to token states,
which the UNet reads by cross-attention at 16 x 16 and 8 x 8 cells, so each word can act where its object is
("a blue heart and a red star" binds each colour to its own object). The picture is folded into 16 x 16 cells of
4 x 4 pixels (48 channels, see playground.image.diffusion): as few positions as a latent model's, without an
autoencoder to train or to lose detail. The objective is the v-parameterisation of DDPM on a cosine schedule
(playground.training.diffusion.v_loss). The weights of an exponential moving average are exported as a pipeline
folder that TextToImagePipeline.from_pretrained loads.
"""

import random
import sys
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from diffusers import UNet2DConditionModel

from playground.image.diffusion import WORLD_FOLD, world_unet_config
from playground.image.text_encoder import encode
from playground.training import loop
from playground.training.diffusion import CAPTION_DROPOUT, Batch, train
from playground.training.emoji_styles import TRAINING_STYLES
from playground.training.scenes import CAPTION_LEVELS, WorldSprites, caption, load_world_sprites, render, sample_scene

LEVEL_WEIGHTS = (0.05, 0.15, 0.2, 0.25, 0.35)  # how often each caption level is drawn: detail is what is hard
WARMUP_STEPS = 500


def batch(rng: random.Random, world: WorldSprites, size: int) -> tuple[torch.Tensor, list[str]]:
    """Pictures in [-1, 1] of fresh training scenes and their captions (some empty)."""
    scenes = [sample_scene(rng, world) for _ in range(size)]
    captions = ["" if rng.random() < CAPTION_DROPOUT else
                caption(s, rng.choices(range(CAPTION_LEVELS), LEVEL_WEIGHTS)[0], rng) for s in scenes]
    return torch.stack([render(s, world) for s in scenes]) * 2 - 1, captions


def main(argv: list[str] | None = None) -> int:
    parser = loop.parser("python -m playground.training.world_diffusion", __doc__.splitlines()[0], captioned=False)
    parser.set_defaults(steps=40_000, batch_size=64, lr=4e-4, checkpoint_every=200)
    args = parser.parse_args(argv)
    generator = loop.seeded(args)
    world = load_world_sprites(TRAINING_STYLES)
    unet = UNet2DConditionModel(**world_unet_config(tiny=args.tiny)).to(args.device)

    def batches(step: int) -> Iterator[Batch]:
        rng = random.Random(args.seed + step)
        while True:
            pictures, captions = batch(rng, world, args.batch_size)
            text = encode(captions)
            yield (F.pixel_unshuffle(pictures, WORLD_FOLD).to(args.device), text.token_states.to(args.device),
                   text.attention_mask.to(args.device))

    train(args, unet, f"{len(world.sprites)} sprites", batches, generator, WARMUP_STEPS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
