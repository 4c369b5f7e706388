"""Train our text-to-image diffusion model: a diffusers UNet2DConditionModel on the latents of 64 px scenes of the world.

    python -m playground.training.diffusion --out DIR [--autoencoder FOLDER] [--steps 40000 --batch-size 64 --threads 2]
    python -m playground.training.diffusion --out DIR --init FOLDER   (on from an exported pipeline and its autoencoder)

Every batch is fresh scenes of the world (playground.training.scenes, training split: the held-out combinations
never appear), captioned at a random level of detail, so the model learns what each word adds; one caption in
ten is the empty prompt, so the same model also predicts unconditionally and classifier-free guidance can mix the
two at sampling time. The captions go through the frozen MiniLM to token states, which the UNet reads by
cross-attention at 16 x 16 and 8 x 8 cells, so each word can act where its object is ("a blue heart and a red
star" binds each colour to its own object). The pictures go through the frozen autoencoder
(playground.training.autoencoder) to 16 x 16 x 8 latents, which the UNet learns to denoise (latent diffusion, see
playground.image.diffusion). The objective is DDPM's in the v-parameterisation on a cosine schedule, every
timestep weighted alike (v_loss). The weights of an exponential moving average are exported, with the autoencoder,
as the pipeline folder that TextToImagePipeline.from_pretrained loads. A run resumes from DIR/checkpoint; on a
machine without it, --init continues from a pipeline this trainer exported, with a fresh optimizer. The autoencoder
is the shipped model's own (assets/models/emoji-diffusion/vae) unless --autoencoder names another.
"""

import argparse
import copy
import sys
from collections.abc import Iterator
from pathlib import Path

import torch
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel

from playground import config
from playground.image.diffusion import BETA_SCHEDULE, TRAIN_TIMESTEPS, TextToImagePipeline, unet_config
from playground.precision import autocast
from playground.training import loop
from playground.training.autoencoder import encoded
from playground.training.emoji_styles import TRAINING_STYLES
from playground.training.scenes import WorldSprites, load_world_sprites

EMA_DECAY = 0.999
WARMUP_STEPS = 500


def export(out: Path, unet: UNet2DConditionModel, vae: AutoencoderKL, scheduler: DDPMScheduler) -> None:
    """Save the pipeline folder (model_index.json, unet/, vae/, scheduler/) that DiffusionPipeline.from_pretrained reads.

    The UNet's weights are stored in float16 (half the size; pictures differ by < 0.2 % of the range) and load as
    float32.
    """
    half = copy.deepcopy(unet).half()
    TextToImagePipeline(unet=half, scheduler=scheduler, vae=vae).save_pretrained(out, safe_serialization=True)


def load_init(unet: UNet2DConditionModel, folder: Path) -> None:
    """Load an exported UNet's weights into `unet`. A UNet exported before the sentence embedding was added has no
    class embedding: its last layer starts at zero, so the model computes what it did and learns to read it."""
    weights, own = UNet2DConditionModel.from_pretrained(folder).float().state_dict(), unet.state_dict()
    missing = sorted(own.keys() - weights.keys())
    different = sorted(k for k in weights if k not in own or weights[k].shape != own[k].shape)
    if different or any(not key.startswith("class_embedding.") for key in missing):
        raise ValueError(f"{folder} is not a UNet of this shape: it lacks {missing[:3]} and differs in {different[:3]}")
    unet.load_state_dict(weights, strict=False)
    if missing:
        torch.nn.init.zeros_(unet.class_embedding.linear_2.weight)
        torch.nn.init.zeros_(unet.class_embedding.linear_2.bias)


def v_loss(unet: UNet2DConditionModel, clean: torch.Tensor, states: torch.Tensor, mask: torch.Tensor,
           sentence: torch.Tensor, alphas: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """DDPM's loss in the v-parameterisation at random timesteps: v = sqrt(a) noise - sqrt(1 - a) clean, every
    timestep weighted alike.

    Unlike predicting the noise alone, v stays accurate at high noise, where fast solvers take their first steps and
    where the prompt decides what goes where. Min-SNR (Hang et al., 2023), tried from step 2 200 of the first run,
    weighs a step by min(SNR, 5) / (SNR + 1) in v's terms, which all but silences the noisiest steps (0.006 at
    t = 950): there the loss stayed where it was while the nearly clean steps' loss fell by 60 %."""
    noise = torch.randn(clean.shape, generator=generator).to(clean.device)
    t = torch.randint(TRAIN_TIMESTEPS, (len(clean),), generator=generator).to(clean.device)
    a = alphas[t].view(-1, 1, 1, 1)
    with autocast(clean.device.type):
        predicted = unet(a.sqrt() * clean + (1 - a).sqrt() * noise, t, encoder_hidden_states=states,
                         encoder_attention_mask=mask, class_labels=sentence).sample
    return (predicted.float() - (a.sqrt() * noise - (1 - a).sqrt() * clean)).pow(2).mean()


def batches(args: argparse.Namespace, world: WorldSprites, vae: AutoencoderKL, step: int) -> Iterator[tuple[torch.Tensor, ...]]:
    """(clean latents B x 8 x 16 x 16, token states, attention mask, sentence embeddings) on the device, from `step` on
    (loop.world_batches).

    The latents are the means of the autoencoder's posterior, not samples of it: its spread (about 0.56 against the
    means' 0.82) is noise the decoder ignores, which the UNet could only learn to imitate."""
    for pictures, text in loop.world_batches(world, args.batch_size, args.seed, step, args.workers):
        with torch.no_grad():
            pictures = pictures.to(args.device) / 2 + 0.5  # world_batches gives [-1, 1], encoded reads [0, 1]
            latents = encoded(vae, pictures).mean * vae.config.scaling_factor
        yield (latents, text.token_states.to(args.device), text.attention_mask.to(args.device),
               text.sentence.to(args.device))


def train(args: argparse.Namespace) -> None:
    """v_loss on fresh scenes, a linear warm-up of the learning rate, an EMA of the weights, a checkpoint and an
    exported pipeline every --checkpoint-every steps."""
    generator = loop.seeded(args)
    world = load_world_sprites(TRAINING_STYLES)
    vae = AutoencoderKL.from_pretrained(args.init / "vae" if args.init else args.autoencoder)
    vae = vae.eval().requires_grad_(False).to(args.device)
    unet = UNet2DConditionModel(**unet_config(tiny=args.tiny)).to(args.device)
    if args.init:
        load_init(unet, args.init / "unet")
    scheduler = DDPMScheduler(num_train_timesteps=TRAIN_TIMESTEPS, beta_schedule=BETA_SCHEDULE, prediction_type="v_prediction",
                              clip_sample=False)  # latents are not bounded to [-1, 1] as pixels are
    ema = loop.EMA(unet, EMA_DECAY)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.01)
    step = loop.load_checkpoint(args.out, {"unet": unet, "ema": ema.model}, {"optimizer": optimizer}, generator)
    loop.announce("UNet", unet, f"{len(world.sprites)} sprites" + (f", from {args.init}" if args.init else ""), step)
    alphas = scheduler.alphas_cumprod.to(args.device)
    progress = loop.Progress()
    upcoming = batches(args, world, vae, step)
    unet.train()
    while step < args.steps:
        clean, states, mask, sentence = next(upcoming)
        for group in optimizer.param_groups:
            group["lr"] = args.lr * min(1.0, (step + 1) / WARMUP_STEPS)
        loss = v_loss(unet, clean, states, mask, sentence, alphas, generator)
        loop.optimizer_step(optimizer, loss, unet)
        step += 1
        ema.update(unet, step)
        progress.log(step, loss=loss.item())
        if step % args.checkpoint_every == 0 or step == args.steps:
            loop.save_checkpoint(args.out, step, {"unet": unet, "ema": ema.model}, {"optimizer": optimizer}, generator,
                                 {"loss": loss.item(), "batch_size": args.batch_size, "lr": args.lr})
            export(args.out, ema.model, vae, scheduler)


def main(argv: list[str] | None = None) -> int:
    parser = loop.parser("python -m playground.training.diffusion", __doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--autoencoder", type=Path, default=config.AUTOENCODER_DIR,
                        help="the autoencoder folder (training.autoencoder's DIR/vae; default: the committed one)")
    source.add_argument("--init", type=Path, help="an exported pipeline folder to continue from (its weights and "
                                                   "autoencoder)")
    parser.set_defaults(steps=40_000, batch_size=64, lr=4e-4, checkpoint_every=200)
    train(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
