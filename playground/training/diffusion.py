"""Train our text-to-image diffusion model: a diffusers UNet2DConditionModel on the emoji dataset.

    python -m playground.training.diffusion --out DIR [--steps 10000 --batch-size 64 --threads 2]

DDPM objective with the v-parameterisation (predict v = sqrt(a) noise - sqrt(1 - a) picture at a random
timestep of a cosine schedule: unlike predicting the noise alone, it stays accurate at high noise, where
fast solvers take their first, largest steps), conditioned on the frozen MiniLM token states through
cross-attention. One caption in ten is replaced by the empty
prompt, so the same model also predicts unconditionally: classifier-free guidance mixes the two at
sampling time. The UNet works on the 32 px image folded into 16 x 16 cells of 2 x 2 pixels (12
channels, see playground.image.diffusion): a quarter of the positions, about twice the training
speed on a CPU, and still pixel space. The weights of an exponential moving average are exported.
"""

import argparse
import copy
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import DDPMScheduler, UNet2DConditionModel

from playground.image.diffusion import BETA_SCHEDULE, FOLD, TRAIN_TIMESTEPS, TextToImagePipeline, unet_config
from playground.training import loop

CAPTION_DROPOUT = 0.1  # share of captions replaced by "" (the unconditional prompt for guidance)
EMA_DECAY = 0.999
WARMUP_STEPS = 200


def export(out: Path, unet: UNet2DConditionModel, scheduler: DDPMScheduler) -> None:
    """Save the pipeline folder (model_index.json, unet/, scheduler/) that DiffusionPipeline.from_pretrained reads.

    The weights are stored in float16 (half the size; pictures differ by < 0.2 % of the range) and load as float32.
    """
    half = copy.deepcopy(unet).half()
    TextToImagePipeline(unet=half, scheduler=scheduler).save_pretrained(out, safe_serialization=True)


def v_loss(unet: UNet2DConditionModel, clean: torch.Tensor, states: torch.Tensor, mask: torch.Tensor,
           alphas: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """DDPM's loss in the v-parameterisation at random timesteps: v = sqrt(a) noise - sqrt(1 - a) clean."""
    noise = torch.randn(clean.shape, generator=generator).to(clean.device)
    t = torch.randint(TRAIN_TIMESTEPS, (len(clean),), generator=generator).to(clean.device)
    a = alphas[t].view(-1, 1, 1, 1)
    with loop.autocast(clean.device.type):
        predicted = unet(a.sqrt() * clean + (1 - a).sqrt() * noise, t, encoder_hidden_states=states,
                         encoder_attention_mask=mask).sample
    return F.mse_loss(predicted.float(), a.sqrt() * noise - (1 - a).sqrt() * clean)


# (clean cells B x C x 16 x 16 on the device, token states, attention mask): what one training step reads
Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def train(args: argparse.Namespace, unet: UNet2DConditionModel, data: str, batches: Callable[[int], Iterator[Batch]],
          generator: torch.Generator, warmup_steps: int) -> None:
    """The training loop both diffusion trainers share: v_loss on each batch, a linear warm-up of the learning rate,
    an EMA of the weights, a checkpoint and an exported pipeline every --checkpoint-every steps. batches(step) gives
    the batches from `step` on (a resumed run starts where its checkpoint left off); data names them in the log."""
    scheduler = DDPMScheduler(num_train_timesteps=TRAIN_TIMESTEPS, beta_schedule=BETA_SCHEDULE, prediction_type="v_prediction")
    ema = loop.EMA(unet, EMA_DECAY)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.01)
    step = loop.load_checkpoint(args.out, {"unet": unet, "ema": ema.model}, {"optimizer": optimizer}, generator)
    loop.announce("UNet", unet, data, step)
    alphas = scheduler.alphas_cumprod.to(args.device)
    progress = loop.Progress()
    upcoming = batches(step)
    unet.train()
    while step < args.steps:
        clean, states, mask = next(upcoming)
        for group in optimizer.param_groups:
            group["lr"] = args.lr * min(1.0, (step + 1) / warmup_steps)
        loss = v_loss(unet, clean, states, mask, alphas, generator)
        loop.optimizer_step(optimizer, loss, unet)
        step += 1
        ema.update(unet, step)
        progress.log(step, loss=loss.item())
        if step % args.checkpoint_every == 0 or step == args.steps:
            loop.save_checkpoint(args.out, step, {"unet": unet, "ema": ema.model}, {"optimizer": optimizer}, generator,
                                 {"loss": loss.item(), "batch_size": args.batch_size, "lr": args.lr})
            export(args.out, ema.model, scheduler)


def main(argv: list[str] | None = None) -> int:
    args = loop.parser("python -m playground.training.diffusion", __doc__.splitlines()[0]).parse_args(argv)
    data, generator = loop.start(args)
    unet = UNet2DConditionModel(**unet_config(data.images.shape[-1], args.tiny)).to(args.device)

    def batches(step: int) -> Iterator[Batch]:
        while True:
            rows, caption = data.sample(args.batch_size, generator)
            caption[torch.rand(len(caption), generator=generator) < CAPTION_DROPOUT] = 0
            yield (F.pixel_unshuffle(data.images[rows], FOLD).to(args.device),
                   data.token_states[caption].float().to(args.device), data.attention_mask[caption].to(args.device))

    train(args, unet, f"{len(data.images)} images", batches, generator, WARMUP_STEPS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
