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

import torch
import torch.nn.functional as F
from diffusers import DDPMScheduler, UNet2DConditionModel

from playground.image.diffusion import BETA_SCHEDULE, TRAIN_TIMESTEPS, WORLD_FOLD, world_unet_config
from playground.image.text_encoder import encode
from playground.training import loop
from playground.training.diffusion import export, v_loss
from playground.training.emoji_styles import TRAINING_STYLES
from playground.training.scenes import CAPTION_LEVELS, WorldSprites, caption, load_world_sprites, render, sample_scene

CAPTION_DROPOUT = 0.1  # share of captions replaced by "" (the unconditional prompt for guidance)
LEVEL_WEIGHTS = (0.05, 0.15, 0.2, 0.25, 0.35)  # how often each caption level is drawn: detail is what is hard
EMA_DECAY = 0.999
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
        clean = F.pixel_unshuffle(pictures, WORLD_FOLD).to(args.device)
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
            export(args.out, ema.model, scheduler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
