"""Train the ConvLSTM video model on synthetic emoji clips (see playground.video.convlstm and training.clips).

    python -m playground.training.video --out DIR [--steps 3000 --batch-size 16 --frames 33 --threads 1] [--init FOLDER]

Each batch is a fresh set of clips; PICTURE_SHARE of them start as the app's start frames from a generated
picture do (clips.picture_start_clips: the picture, a square half the frame's side, moves; its object is what
the matte learns), and NEAR_FLOOR_SHARE of the bouncing ones start near the floor (a small bounce, or none).
The model takes the first frame apart (sprite, background, pivot) and rolls out the rest of the clip on its own,
each made frame being its next input, exactly as in the app. The loss, back-propagated through the whole rollout,
has four parts:
- the matte: the sprite's alpha in the first frame, against the one the clip was drawn with;
- the pose: the sprite's shift, angle and size in every made frame against the motion rule's, in
  pixels (angle and size as the pixels they move at the sprite's edge), each frame weighted more where the true
  motion changes speed (turn_weights: a bounce's steps at the floor; a shake changes speed alike in every frame, so
  its frames weigh the same), which a model that averages gets wrong, and which are too few to count otherwise;
- the pictures: the mean absolute error of the made frames;
- the expected place: at each position of the LSTM's map, how much of it the sprite covers in the next frame,
  against the truth (a cross-entropy).
Half the batches are teacher forced: each step reads the true frame and the true last move, so the
LSTM learns what follows what (the next step of a shake from the last ones) even before its own moves
are right; the other half read the model's own, as in the app. A curriculum lengthens the clips from 9 frames to --frames over the first half of the schedule, so
the LSTM first learns a step, then to keep count over long videos; the learning rate then decays. The exported model is an exponential
moving average of the trained one. --init starts from an exported model's weights (a fresh optimizer and
schedule), to go on training a shipped model with a new curriculum; parts the model has gained since it was
exported start fresh (they are named) and learn FRESH_LR_FACTOR times faster than the rest, to catch up with it.
"""

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from playground import config
from playground.precision import autocast
from playground.training import loop
from playground.training.clips import ClipBatch, load_sprites, picture_start_clips, random_clips
from playground.video.convlstm import Sequencer, SequencerConfig, rollout, save_sequencer
from playground.video.motions import MOTIONS
from playground.weights import WEIGHTS_FILE, read_config

EMA_DECAY = 0.995
GRADIENT_CLIP = 1.0
FIRST_FRAMES = 9  # clip length at the start of the curriculum
PIXELS_PER_UNIT = 32  # half a 64-pixel frame: poses are in frame units (-1 to 1)
TEACHER_FORCED_SHARE = 0.5  # batches that read the true frames and moves instead of the model's own
FRESH_LR_FACTOR = 30  # with --init: the learning rate of the parts the exported model lacked, over the rest's
FOCUS_SHARE = 0.5  # with --focus, by default: the share of the clips other than picture starts that have the motion
PICTURE_SHARE = 0.25  # clips that start from a picture, as the app's start frames from a prompt do
NEAR_FLOOR_SHARE = 0.3  # bouncing clips that start near the floor (clips.NEAR_FLOOR): small bounces, and none
TURN_WEIGHT = 2.0  # per pixel of change of speed: a bounce's steps at the floor weigh 5 to 10 times its others


def true_pose(clips: ClipBatch) -> torch.Tensor:
    """B x T x 4: each frame's pose relative to frame 0, in Step.pose's terms (shift, angle, log size)."""
    shift = clips.centres - clips.centres[:, :1]
    return torch.cat([shift, clips.angles[..., None], torch.log(clips.halves / clips.halves[:, :1])[..., None]], -1)


def start_from(folder: Path) -> tuple[Sequencer, list[str]]:
    """A sequencer with an exported model's weights, and the names of the parts that model lacks (they keep their
    fresh start)."""
    model = Sequencer(SequencerConfig(**read_config(folder, "video model")))
    missing = model.load_state_dict(load_file(folder / WEIGHTS_FILE), strict=False).missing_keys
    if missing:
        print(f"{folder} lacks {', '.join(missing)}: those start fresh", flush=True)
    return model, missing


def expected_loss(expected: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the expected places (B x T x 1 x H x W) against the share of each place the sprite
    covers in the true frames (alpha, B x T x 1 x S x S), in full precision (autocast refuses it in half)."""
    target = F.adaptive_avg_pool2d(alpha.flatten(0, 1), expected.shape[-2:]).unflatten(0, expected.shape[:2])
    with torch.autocast(expected.device.type, enabled=False):
        return F.binary_cross_entropy(expected.float(), target.float())


def turn_weights(poses: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """B x T-1 weights of frames 1 to T-1 (mean 1 in each clip): 1 + TURN_WEIGHT x the largest change of speed of
    the true poses (B x T x 4) at the frame or next to it, in pixels (scale: B x 1 x 4, pixels per pose unit). Setting off at
    frame 1 is not counted: every motion but the bounce starts at full speed."""
    moves = torch.diff(poses, dim=1)  # the move into each frame from frame 1 on
    change = F.pad((torch.diff(moves, dim=1) * scale).abs().sum(-1), (1, 0))  # at frames 1 to T-1; setting off is none
    weights = 1 + TURN_WEIGHT * F.max_pool1d(change[:, None], 3, 1, 1)[:, 0]
    return weights / weights.mean(1, keepdim=True)


def losses(model: Sequencer, clips: ClipBatch, teacher_forced: bool = False) -> dict[str, torch.Tensor]:
    """The four parts of the loss (see the module docstring), for clips rolled out from their first frame,
    reading its own frames and moves, or teacher forced: reading the true ones."""
    start = clips.frames[:, 0]
    layers = model.separate(start)
    poses = true_pose(clips)
    steps = list(rollout(model, start, clips.motions, clips.frames.shape[1] - 1, layers,
                         poses if teacher_forced else None))
    made = torch.stack([s.frame for s in steps], 1)
    pose = torch.stack([s.pose for s in steps], 1)
    expected = torch.stack([s.expected for s in steps], 1)
    target = poses[:, 1:]
    radius = clips.halves[:, :1, None] * PIXELS_PER_UNIT  # the sprite's half side in pixels
    weights = torch.cat([torch.full_like(radius, PIXELS_PER_UNIT).expand(-1, -1, 2), radius, radius], -1)
    return {
        "matte": (layers.sprite[:, 3:] - clips.alpha[:, 0]).abs().mean() * 10,
        "pose": ((pose - target).abs() * weights * turn_weights(poses, weights)[..., None]).mean(),
        "pictures": (made - clips.frames[:, 1:]).abs().mean() * 10,
        "expected": expected_loss(expected, clips.alpha[:, 1:]),
    }


def training_clips(sprites: torch.Tensor, batch: int, num_frames: int, size: int, generator: torch.Generator,
                   focus: str | None, focus_share: float = FOCUS_SHARE) -> ClipBatch:
    """A batch of random clips, PICTURE_SHARE of them starting as the app's start frames from a generated picture
    do; with focus, those and focus_share of the others have that motion (to go on training a model whose one motion
    lags behind the others, without forgetting them)."""
    pictures = round(batch * PICTURE_SHARE)
    focused = round((batch - pictures) * focus_share) if focus else 0
    others = batch - pictures - focused
    parts = [random_clips(sprites, others, num_frames, size, generator, near_floor=NEAR_FLOOR_SHARE)] if others else []
    if pictures:
        parts.append(picture_start_clips(sprites, pictures, num_frames, size, generator, focus))
    if focused:
        parts.append(random_clips(sprites, focused, num_frames, size, generator, focus, NEAR_FLOOR_SHARE))
    return ClipBatch(*(torch.cat(fields) for fields in zip(*(vars(part).values() for part in parts), strict=True)))


def share(text: str) -> float:
    """A number between 0 and 1, for argparse: a share outside them would ask for more clips than a batch has."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = loop.parser("python -m playground.training.video", __doc__.splitlines()[0])
    parser.set_defaults(steps=3000, batch_size=16, lr=2e-3, checkpoint_every=50)
    parser.add_argument("--frames", type=int, default=33, help="frames per training clip at the end of the curriculum")
    parser.add_argument("--schedule-steps", type=int, default=3000,
                        help="the curriculum reaches --frames half-way and the learning rate decays over the second half")
    parser.add_argument("--size", type=int, default=64, help="frame size in pixels")
    parser.add_argument("--init", type=Path, help="an exported model folder to start from (weights only)")
    parser.add_argument("--focus", choices=MOTIONS,
                        help="a motion that the picture starts and --focus-share of the other clips of a batch have")
    parser.add_argument("--focus-share", type=share, default=FOCUS_SHARE,
                        help="with --focus: the share of the clips other than picture starts that have that motion")
    parser.add_argument("--cache-dir", type=Path, default=config.CACHE_DIR,
                        help="where the emoji packages and the sprites file are kept (fetched with npm if missing)")
    args = parser.parse_args(argv)
    rng = loop.seeded(args)
    sprites = load_sprites("train", args.cache_dir)
    model_config = SequencerConfig(width=4, hidden=4, layers=1, motion_dim=2, image_size=args.size) if args.tiny \
        else SequencerConfig(image_size=args.size)
    model, fresh = start_from(args.init) if args.init else (Sequencer(model_config), [])
    model = model.to(args.device)
    ema = loop.EMA(model, EMA_DECAY)
    groups = [[p for name, p in model.named_parameters() if (name in fresh) == is_fresh] for is_fresh in (False, True)]
    optimizer = torch.optim.AdamW([{"params": groups[0]}, {"params": groups[1], "lr": args.lr * FRESH_LR_FACTOR}],
                                  lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, 2 * (1 - s / args.schedule_steps) + 0.05))
    modules = {"model": model, "ema": ema.model}
    step = loop.load_checkpoint(args.out, modules, {"optimizer": optimizer}, rng)
    schedule.last_epoch = step
    loop.announce("sequencer", model, f"{len(sprites)} sprites", step)
    progress = loop.Progress(every=10)
    while step < args.steps:
        length = min(args.frames, FIRST_FRAMES + (args.frames - FIRST_FRAMES) * 2 * step // args.schedule_steps)
        clips = training_clips(sprites, args.batch_size, max(length, 2), args.size, rng, args.focus,
                               args.focus_share)
        clips = ClipBatch(*(t.to(args.device) for t in vars(clips).values()))
        teacher_forced = bool(torch.rand((), generator=rng) < TEACHER_FORCED_SHARE)
        with autocast(args.device):
            parts = losses(model, clips, teacher_forced)
        loss = sum(parts.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRADIENT_CLIP)
        optimizer.step()
        schedule.step()
        step += 1
        ema.update(model, step)
        progress.log(step, frames=length, **{name: value.item() for name, value in parts.items()})
        if step % args.checkpoint_every == 0 or step == args.steps:
            loop.save_checkpoint(args.out, step, modules, {"optimizer": optimizer}, rng,
                                 {"loss": loss.item(), "batch_size": args.batch_size, "frames": length})
            save_sequencer(ema.model, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
