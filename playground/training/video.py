"""Train the ConvLSTM video model on synthetic emoji clips (see playground.video.convlstm and training.clips).

    python -m playground.training.video --out DIR [--steps 4000 --batch-size 16 --frames 20 --threads 1]

Each batch is a fresh set of clips. The model reads 1 to 4 real frames (the context), then rolls
out the rest of the clip on its own, each made frame being its next input, exactly as in the app;
the loss is the mean absolute error of the made frames, back-propagated through the whole rollout.
The log also prints the same error for copying the last real frame, the baseline to beat. The
exported model is an exponential moving average of the trained one.
"""

import sys
from pathlib import Path

import torch

from playground import config
from playground.training import loop
from playground.training.clips import load_sprites, random_clips
from playground.video.convlstm import Sequencer, SequencerConfig, rollout, save_sequencer

EMA_DECAY = 0.998
MAX_CONTEXT = 4  # real frames read before the rollout, drawn from 1 to this
GRADIENT_CLIP = 1.0


def rollout_error(model: Sequencer, frames: torch.Tensor, motions: torch.Tensor, context: int) -> torch.Tensor:
    """Mean absolute error of the frames the model makes after reading `context` real ones."""
    made = torch.stack([frame for frame, _ in rollout(model, frames[:, :context], motions, frames.shape[1] - context)], 1)
    return (made - frames[:, context:]).abs().mean()


def main(argv: list[str] | None = None) -> int:
    parser = loop.parser("python -m playground.training.video", __doc__.splitlines()[0], captioned=False)
    parser.set_defaults(steps=4000, batch_size=16, lr=1e-3, checkpoint_every=100)
    parser.add_argument("--frames", type=int, default=18, help="frames per training clip (context + rollout)")
    parser.add_argument("--size", type=int, default=64, help="frame size in pixels")
    parser.add_argument("--cache-dir", type=Path, default=config.CACHE_DIR,
                        help="where the emoji packages and the sprites file are kept (fetched with npm if missing)")
    args = parser.parse_args(argv)
    rng = loop.seeded(args)
    sprites = load_sprites("train", args.cache_dir)
    model_config = SequencerConfig(width=8, hidden=8, layers=1, image_size=args.size) if args.tiny else \
        SequencerConfig(width=24, hidden=48, image_size=args.size)
    model = Sequencer(model_config).to(args.device)
    ema = loop.EMA(model, EMA_DECAY)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    modules = {"model": model, "ema": ema.model}
    step = loop.load_checkpoint(args.out, modules, {"optimizer": optimizer}, rng)
    loop.announce("sequencer", model, f"{len(sprites)} sprites", step)
    progress = loop.Progress(every=20)
    while step < args.steps:
        clips = random_clips(sprites, args.batch_size, args.frames, args.size, rng)
        frames, motions = clips.frames.to(args.device), clips.motions.to(args.device)
        context = int(torch.randint(1, MAX_CONTEXT + 1, (), generator=rng))
        with loop.autocast(args.device):
            loss = rollout_error(model, frames, motions, context)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRADIENT_CLIP)
        optimizer.step()
        step += 1
        ema.update(model, step)
        copy_last = (frames[:, context - 1 : context] - frames[:, context:]).abs().mean()
        progress.log(step, loss=loss.item(), copy_last=copy_last.item())
        if step % args.checkpoint_every == 0 or step == args.steps:
            loop.save_checkpoint(args.out, step, modules, {"optimizer": optimizer}, rng,
                                 {"loss": loss.item(), "batch_size": args.batch_size, "frames": args.frames})
            save_sequencer(ema.model, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
