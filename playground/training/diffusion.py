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

import copy
import sys
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


def main(argv: list[str] | None = None) -> int:
    args = loop.parser("python -m playground.training.diffusion", __doc__.splitlines()[0]).parse_args(argv)
    data, generator = loop.start(args)
    image_size = data.images.shape[-1]
    unet = UNet2DConditionModel(**unet_config(image_size, args.tiny)).to(args.device)
    scheduler = DDPMScheduler(num_train_timesteps=TRAIN_TIMESTEPS, beta_schedule=BETA_SCHEDULE, prediction_type="v_prediction")
    ema = loop.EMA(unet, EMA_DECAY)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=0.01)
    step = loop.load_checkpoint(args.out, {"unet": unet, "ema": ema.model}, {"optimizer": optimizer}, generator)
    loop.announce("UNet", unet, f"{len(data.images)} images", step)
    alphas = scheduler.alphas_cumprod.to(args.device)
    states, masks = data.token_states, data.attention_mask
    progress = loop.Progress()
    unet.train()
    while step < args.steps:
        rows, caption = data.sample(args.batch_size, generator)
        caption[torch.rand(len(caption), generator=generator) < CAPTION_DROPOUT] = 0
        clean = F.pixel_unshuffle(data.images[rows], FOLD).to(args.device)
        for group in optimizer.param_groups:
            group["lr"] = args.lr * min(1.0, (step + 1) / WARMUP_STEPS)
        loss = v_loss(unet, clean, states[caption].float().to(args.device), masks[caption].to(args.device), alphas, generator)
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
