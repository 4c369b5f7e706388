"""Measure the video model on held-out emoji: PSNR and SSIM at horizons 1, 4, 8, 16, against two baselines.

    python -m playground.training.evaluate_video [--model DIR] [--clips-per-motion 32] [--json FILE]

Every clip shows a held-out emoji (never seen in training) moving by one of the motions. The
model reads the first CONTEXT frames and makes the rest; horizon h is the h-th frame it makes.
The baselines get the same frames, in the same run: copying the last real frame, and moving the
last frame's sprite on in a straight line at the speed it had between the last two real frames
(the sprite found as the pixels that differ from a plane fitted to the frame's border, the
background). PSNR is that of the mean squared error over the clips, SSIM the mean over clips; per
motion at horizon 8 as well.
"""

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from playground import config
from playground.training.clips import load_sprites, random_clips
from playground.video.convlstm import Sequencer, load_sequencer, rollout
from playground.video.motions import MOTIONS

HORIZONS = (1, 4, 8, 16)
CONTEXT = 2  # real frames read before the rollout: two, so that the linear baseline sees a speed
SPRITE_THRESHOLD = 0.1  # summed absolute colour difference from the background that counts as sprite


def psnr(made: torch.Tensor, real: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB of the mean squared error over all the frames given (pixels in [0, 1]).

    Of the mean error rather than a mean of per-frame figures, which one exact frame (infinite dB) would swamp.
    """
    return 10 * torch.log10(1 / (made - real).pow(2).mean().clamp(min=1e-10)).item()


def ssim(made: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Structural similarity per frame (Wang et al. 2004: 11-pixel Gaussian window, sigma 1.5), N x 3 x S x S -> N."""
    x = torch.arange(11, dtype=torch.float32) - 5
    g = torch.exp(-x**2 / (2 * 1.5**2))
    g = g / g.sum()
    window = (g[:, None] * g[None, :]).expand(3, 1, 11, 11)

    def blur(image: torch.Tensor) -> torch.Tensor:
        return F.conv2d(image, window, groups=3)

    mu_a, mu_b = blur(made), blur(real)
    var_a = blur(made * made) - mu_a**2
    var_b = blur(real * real) - mu_b**2
    cov = blur(made * real) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return index.flatten(1).mean(1)


def copy_last(context: torch.Tensor, count: int) -> torch.Tensor:
    """The baseline that predicts no motion: B x count x 3 x S x S copies of the last real frame."""
    return context[:, -1:].expand(-1, count, -1, -1, -1)


def _background(frame: torch.Tensor) -> torch.Tensor:
    """A plane a + b x + c y per colour fitted to the frame's border pixels (B x 3 x S x S)."""
    batch, _, size, _ = frame.shape
    axis = torch.linspace(-1, 1, size)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    border = torch.zeros(size, size, dtype=torch.bool)
    border[:2], border[-2:], border[:, :2], border[:, -2:] = True, True, True, True
    design = torch.stack([torch.ones_like(x), x, y], -1)  # S x S x 3
    a = design[border]  # P x 3
    values = frame.permute(0, 2, 3, 1)[:, border]  # B x P x 3
    coefficients = torch.linalg.lstsq(a.expand(batch, -1, -1), values).solution  # B x 3 x 3
    return (design.reshape(-1, 3) @ coefficients).reshape(batch, size, size, 3).permute(0, 3, 1, 2)


def linear_extrapolation(context: torch.Tensor, count: int) -> torch.Tensor:
    """The baseline that keeps the sprite moving in a straight line at its last speed (see the module docstring)."""
    last, before = context[:, -1], context[:, -2]
    background = _background(last)
    masks = [((f - background).abs().sum(1, keepdim=True) > SPRITE_THRESHOLD).float() for f in (before, last)]
    size = last.shape[-1]
    axis = torch.linspace(-1, 1, size)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    coordinates = torch.stack([x, y])  # 2 x S x S

    def centre(mask: torch.Tensor) -> torch.Tensor:
        return (mask * coordinates).flatten(2).sum(2) / mask.flatten(2).sum(2).clamp(min=1)

    speed = centre(masks[1]) - centre(masks[0])  # B x 2, normalised units per frame
    sprite = torch.cat([last * masks[1], masks[1]], 1)
    frames = []
    for k in range(1, count + 1):
        grid = coordinates.permute(1, 2, 0)[None] - k * speed[:, None, None, :]
        moved = F.grid_sample(sprite, grid, align_corners=True)
        frames.append(moved[:, :3] + background * (1 - moved[:, 3:]))
    return torch.stack(frames, 1).clamp(0, 1)


@torch.no_grad()
def model_frames(model: Sequencer, context: torch.Tensor, motions: torch.Tensor, count: int, batch: int = 32) -> torch.Tensor:
    """The model's rollout after the context frames, B x count x 3 x S x S, in batches."""
    parts = []
    for start in range(0, len(context), batch):
        frames = rollout(model, context[start : start + batch], motions[start : start + batch], count)
        parts.append(torch.stack([frame for frame, _ in frames], 1))
    return torch.cat(parts)


def scores(made: torch.Tensor, real: torch.Tensor) -> dict[str, dict[str, float]]:
    """Mean PSNR and SSIM at each horizon."""
    return {
        f"h{h}": {"psnr": psnr(made[:, h - 1], real[:, h - 1]),
                  "ssim": ssim(made[:, h - 1], real[:, h - 1]).mean().item()}
        for h in HORIZONS
    }


def evaluate(model: Sequencer, clips_per_motion: int = 32, seed: int = 0, size: int = 64,
             cache_dir: Path = config.CACHE_DIR) -> dict:
    """All the figures of the model card, from one set of held-out clips."""
    sprites = load_sprites("heldout", cache_dir)
    generator = torch.Generator().manual_seed(seed)
    count = max(HORIZONS)
    frames, motions = [], []
    for motion in MOTIONS:
        clips = random_clips(sprites, clips_per_motion, CONTEXT + count, size, generator, motion)
        frames.append(clips.frames)
        motions.append(clips.motions)
    clips, motions = torch.cat(frames), torch.cat(motions)
    context, real = clips[:, :CONTEXT], clips[:, CONTEXT:]
    made = model_frames(model, context, motions, count)
    made_one = model_frames(model, clips[:, :1], motions, count + 1)[:, 1:]  # from the start frame alone
    predictions = {"model": made, "linear": linear_extrapolation(context, count), "copy_last": copy_last(context, count)}
    result = {
        "clips": len(clips), "context_frames": CONTEXT,
        **{name: scores(predicted, real) for name, predicted in predictions.items()},
        "model_from_one_frame": scores(made_one, real),
        "psnr_h8_by_motion": {},
    }
    for index, motion in enumerate(MOTIONS):
        rows = motions == index
        result["psnr_h8_by_motion"][motion] = {
            name: psnr(predicted[rows, 7], real[rows, 7]) for name, predicted in predictions.items()
        }
    return result


def table(result: dict) -> str:
    """The figures as a Markdown table, as in the model card."""
    names = ("model", "model_from_one_frame", "linear", "copy_last")
    lines = ["| horizon | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for h in HORIZONS:
        cells = [f"{result[n][f'h{h}']['psnr']:.2f} dB / {result[n][f'h{h}']['ssim']:.3f}" for n in names]
        lines.append(f"| {h} | " + " | ".join(cells) + " |")
    lines += ["", "| motion (PSNR at horizon 8) | model | linear | copy_last |", "|---|---|---|---|"]
    for motion, row in result["psnr_h8_by_motion"].items():
        lines.append(f"| {motion} | {row['model']:.2f} | {row['linear']:.2f} | {row['copy_last']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.training.evaluate_video", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=config.VIDEO_MODEL_DIR)
    parser.add_argument("--clips-per-motion", type=int, default=32)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    result = evaluate(load_sequencer(args.model), args.clips_per_motion)
    print(f"{result['clips']} held-out clips, {CONTEXT} context frames; PSNR / SSIM (higher is better)")
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
