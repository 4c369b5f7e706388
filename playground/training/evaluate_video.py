"""Measure the video model's motion as motion: find the sprite's pose in the made frames and compare it with the rule's.

    python -m playground.training.evaluate_video [--model DIR] [--clips-per-motion 8] [--pictures 4] [--json FILE]

**The judge** is a pose tracker built apart from the model: it uses nothing of the model's sprite, matte or
poses (playground.video.convlstm), only the clip code's own drawing (clips.draw_sprites and compose, the
process that defines the truth). Given a clip's sprite, its background and its pose in frame 0, it finds
for a frame the pose (centre, angle, half side) whose drawing best explains it, by analysis by synthesis:
1. a coarse search that does not start from the truth: the pixels that differ from the background give an
   area (the size relative to frame 0), a centroid and a bounding box. For SEARCH_ANGLES angles (15° apart,
   7.5° off 0) and a few sizes, the centre is put where the centroid says, or where the box's side that no
   frame edge cuts says (a sprite that is leaving is cut). Every candidate is drawn at a quarter of the
   frame size and scored by its mean absolute pixel error;
2. the best CANDIDATES_REFINED are refined by gradient descent (Adam) on that error at half size, and the
   best of them again at full size.
On the true frames it recovers the poses (the "true frames" column of every table is that check, made in the
same run). Validated on all 196 held-out emoji, one clip each of bounce, shake, slide_left, spin, zoom_in and
zoom_out (seed 11, clips unseen while its settings were chosen) at the 5 horizons: over the 4 608 frames scored,
centre error 0.016 px on average (at most 0.9 px, a brick wall nearly symmetric under a turn), size error 0.06 %
(at most 6.6 %, a sprite 12 pixels across), angle error 0.07° over the 3 815 frames with angle scored (at most
0.4°). That validation ran before the sprites were centred on their box (clips.centred); since, every run checks
the tracker again on its own clips (2026-11-29: means per motion and horizon at most 0.07 px, 0.15°, 0.12 %).

**What is scored**:
- at the horizons: centre error in pixels of a 64-pixel frame, size error in % (|half / true half - 1|),
  angle error in degrees (wrapped to 0-180°); means over the clips scored;
- in every frame: pixels kept, the share of the true sprite's pixels (alpha over 0.5 at the true pose, inside the
  frame) whose colours the made frame shows (every colour within MATCH) at their place or moved by up to
  MATCH_REACH pixels in steps of a quarter pixel (between pixels the made frame is interpolated), pooled over the
  clips. Validated on the held-out clips of seeds 0 and 1 (8 per motion, 2026-12-02), worst frame per motion: the
  truth drawn a quarter, a half or a whole pixel off keeps at least 93.1 % (when only whole-pixel moves were tried,
  half a pixel off kept as little as 33 %: a right drawing failed); 2 px off keeps 51-91 %, turned 15° 30-91 %,
  blurred over 5 x 5 pixels 12-87 %, and frame 0 copied 0-88 %. It is measured on whatever part of the sprite is
  inside, but for the frame's outermost pixels (away_from_edge: a sprite a pixel ahead has carried those out) and
  for a clip's frame with fewer than MIN_PIXELS_INSIDE of them (a sliver a few pixels wide, mostly edges: without
  this floor the truth drawn half a pixel off kept 88.4 % of a slide_down frame of such slivers): a sprite that
  leaves the frame must leave it whole. Like pose, it is scored only while the sprite's half side is at least
  MIN_HALF_PX: a sprite a few pixels across has no pixels of its own, each is a mixture of its colours and the
  background's that a shift of a quarter pixel changes (measured with whole-pixel moves on the held-out zoom_out
  clips: the true frames drawn a quarter pixel off kept 83 % of the pixels of a sprite 3 px across, and at least
  96 % while it was 12 px across or more).
Pose is scored only while at least MIN_INSIDE of the sprite is inside the frame and its half side is between
MIN_HALF_PX of the frame's pixels and MAX_HALF of the frame: a sprite mostly outside, a few pixels across, or
much larger than the frame, has no pose that a picture can tell; and only where the tracker reads the true
frame's centre within READABLE_PX (the centre goal): a sprite nearly the colour of its background can defeat it (a
red teapot on an orange-to-red gradient, 17 px off at 16 frames: the one such clip of the 216 held-out clips of
seeds 0, 1 and 2), and a judge that cannot read the truth cannot judge a made frame. Angle is scored only for
sprites that look different when turned: asymmetry (the least change under a turn of 45° to 315°) of at least
MIN_ASYMMETRY, which leaves out discs, plain squares, clock faces, flags like Tunisia's and pictures whose object
is symmetric (about one held-out clip in six). Which frames are scored is decided from the truth, so it is the
same for the model and the baselines. The centre compared is that of what is seen of the sprite (its pixels
unlike the background in frame 0, carried with the sprite), so that a sprite that looks the same turned is
not counted off-centre.

**The clips**: held-out emoji (never seen in training), clips_per_motion per motion, each of a different
emoji, 64 frames (the start frame and the 63 the app can add); and start frames drawn by our diffusion model
from a few prompts, as the app makes them (playground.video.start_frame: the picture, cropped first to a square
centred on its drawing, as a half-size square in the middle, on its edge colour), the square being the sprite.
The model reads frame 0 only, as in the app. Two baselines, on the same clips: copy_last repeats frame 0 (all the
model sees), and linear moves the sprite on in a straight line at its speed between frames 0 and 1 (it sees one real
frame more than the model). Horizon h is frame h of the clip.
"""

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image

from playground import config
from playground.image import ImageSettings, generate_batch
from playground.training.clips import compose, draw_sprites, load_sprites, random_clips
from playground.video import frame_tensor, start_frame
from playground.video.convlstm import Sequencer, border_weights, coordinates, fit_plane, load_sequencer, rollout
from playground.video.motions import MOTIONS, poses

HORIZONS = (4, 8, 16, 32, 63)
FRAMES = max(HORIZONS) + 1  # the start frame and the 63 that the app can add to it
PIXELS = 32  # pixels of a 64-pixel frame per frame unit: every length is given in those pixels
PREDICTORS = ("model", "linear", "copy_last", "true_frames")  # true_frames: the tracker's own error

# the tracker
SEEN = 0.1  # a colour differing from the background by this much is sprite, for the coarse search
SEARCH_ANGLES = 24  # candidate angles, 360° / 24 apart and half a step off 0, so none is the truth of a spin
SEARCH_SCALES = (1.0, 1.3, 1.7)  # candidate sizes, times the one the seen area gives (an edge cuts the area)
SEARCH_SHRINK = 4  # candidates are drawn and compared at a quarter of the frame size (hard frames at half)
CANDIDATES_REFINED = 6
REFINE_STEPS = (25, 30)  # Adam steps at half the frame size, then at full size
REFINE_RATES = ((0.02, 0.04, 0.03), (0.01, 0.03, 0.01))  # per stage: centre (frame units), angle (rad), log half

# what is scored
MATCH = 0.1  # a true sprite pixel is kept where the made frame is within this of it in every colour (in [0, 1])...
MATCH_REACH = 1  # ...at its place or up to this many pixels away...
MATCH_STEPS = 4  # ...in steps of 1 / this: drawn half a pixel or a pixel off, a sprite keeps its pixels
MIN_PIXELS_INSIDE = 32  # a clip's frame counts while this many pixels of its sprite are inside (away_from_edge)
MIN_INSIDE = 0.75  # pose is scored while this share of the sprite is inside the frame...
MIN_HALF_PX = 6  # ...its half side is at least this many of the frame's pixels (a sprite 12 pixels across)...
MAX_HALF = 1.25  # ...and at most this (frame units): a sprite a quarter wider than the frame shows too little outline
MIN_ASYMMETRY = 0.15  # angle is scored for sprites that change at least this much at every turn (see asymmetry)
ASYMMETRY_TURNS = torch.arange(45, 316, 5)  # degrees

# the goals, at GOAL_HORIZON frames
GOAL_HORIZON = 16
SPIN_ANGLE_GOAL = 15.0  # degrees
CENTRE_GOAL = 2.0  # pixels
READABLE_PX = CENTRE_GOAL  # pose is scored where the tracker reads the true frame's centre within this: Clips.readable
CENTRE_GOAL_MOTIONS = ("slide_left", "slide_right", "slide_up", "slide_down", "bounce", "shake")
SIZE_GOAL = 10.0  # percent
SIZE_GOAL_MOTIONS = ("zoom_in", "zoom_out")
PIXELS_KEPT_GOAL = 90.0  # percent, in every frame of every motion

PICTURE_PROMPTS = ("a red apple", "a yellow smiling face", "a blue heart", "a green tree")


@dataclass
class Poses:
    """Sprite poses, B x N each: as motions.poses gives them."""

    centres: torch.Tensor  # B x N x 2, frame units (-1 left/top to 1 right/bottom)
    angles: torch.Tensor  # B x N, radians clockwise
    halves: torch.Tensor  # B x N, half the sprite's side in frame units

    def pick(self, index: torch.Tensor) -> "Poses":
        """The poses at index (B x N x K) along a third axis of candidates (B x N x C): B x N x K."""
        return Poses(self.centres.gather(2, index[..., None].expand(-1, -1, -1, 2)), self.angles.gather(2, index),
                     self.halves.gather(2, index))

    def rows(self, index: slice) -> "Poses":
        """The poses of some clips (rows of B)."""
        return Poses(self.centres[index], self.angles[index], self.halves[index])

    def flat(self) -> "Poses":
        """B x N x K poses as B x (N K)."""
        return Poses(self.centres.flatten(1, 2), self.angles.flatten(1), self.halves.flatten(1))


@dataclass
class Clips:
    """Clips of one motion and everything that drew them: the truth that the tracker and the scores compare with."""

    motion: str
    frames: torch.Tensor  # B x T x 3 x S x S, frame 0 the start
    sprites: torch.Tensor  # B x 4 x H x W, premultiplied RGBA
    backgrounds: torch.Tensor  # B x 3 x S x S
    poses: Poses  # B x T
    alpha: torch.Tensor  # B x T x S x S: the sprite's coverage at its true pose
    asymmetry: torch.Tensor  # B, see asymmetry

    @cached_property
    def readable(self) -> torch.Tensor:
        """B x len(HORIZONS): where the tracker finds the sprite's centre in the true frame within READABLE_PX. A
        clip the judge cannot read in its own true frames (a sprite nearly the colour of its background) cannot
        judge a made one; computed once, for every predictor."""
        found = track(self.frames[:, HORIZONS], self.sprites, self.backgrounds, self.poses.centres[:, 0],
                      self.poses.halves[:, 0])
        return centre_errors(self, found) <= READABLE_PX


def rotation(angles: torch.Tensor) -> torch.Tensor:
    """... x 2 x 2: turning a sprite point clockwise (y down) by the angles, as draw_sprites places it."""
    cos, sin = torch.cos(angles), torch.sin(angles)
    return torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)


def render(sprites: torch.Tensor, backgrounds: torch.Tensor, pose: Poses, size: int) -> torch.Tensor:
    """B x N x 3 x size x size: the sprites at the poses over their backgrounds, drawn as the clips are."""
    if backgrounds.shape[-1] != size:
        backgrounds = F.avg_pool2d(backgrounds, backgrounds.shape[-1] // size)
    return compose(draw_sprites(sprites, pose.centres, pose.angles, pose.halves, size), backgrounds)


def asymmetry(sprites: torch.Tensor, backgrounds: torch.Tensor, halves: torch.Tensor) -> torch.Tensor:
    """B: how much each sprite changes when turned, seen in the middle of its background at its half side (B).

    The least, over turns of 45° to 315° about the centre of what is seen of the sprite (its pixels unlike
    the background), of the summed largest colour difference per pixel seen: about 0 for a disc or a square
    of one colour, or a picture whose object is one, whose turn a picture cannot tell.
    """
    size, middle = backgrounds.shape[-1], torch.zeros(len(sprites), 1, 2)
    still = render(sprites, backgrounds, Poses(middle, torch.zeros(len(sprites), 1), halves[:, None]), size)
    area, pivot, *_ = _seen(still, backgrounds)  # B x 1, B x 1 x 2
    turns = torch.deg2rad(ASYMMETRY_TURNS.float()).expand(len(sprites), -1)
    centres = pivot - (rotation(turns) @ pivot[..., None])[..., 0]  # the pivot stays put
    turned = render(sprites, backgrounds, Poses(centres, turns, halves[:, None].expand_as(turns)), size)
    change = (turned - still).abs().amax(2).flatten(2).sum(2)
    return (change / area.clamp(min=1)).amin(1)


def seen_at_start(sprites: torch.Tensor, backgrounds: torch.Tensor, start_centres: torch.Tensor,
                  start_halves: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What is seen of each sprite in frame 0 (its pixels unlike the background): its area (B, pixels) and its
    centre (B x 2) in sprite units, a point that moves with the sprite."""
    start = Poses(start_centres[:, None], torch.zeros(len(sprites), 1), start_halves[:, None])
    first = render(sprites, backgrounds, start, backgrounds.shape[-1])
    area, centre, *_ = _seen(first, backgrounds)
    return area[:, 0], (centre[:, 0] - start_centres) / start_halves[:, None]


def place(pose: Poses, point: torch.Tensor) -> torch.Tensor:
    """B x N x 2: where a point of each sprite (B x 2, sprite units) is in the frame at the poses (B x N)."""
    return pose.centres + pose.halves[..., None] * (rotation(pose.angles) @ point[:, None, :, None])[..., 0]


def _seen(frames: torch.Tensor, backgrounds: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Area (pixels), centroid and box corners (frame units) of the pixels unlike the background, and which sides of
    the box a frame edge cuts."""
    batch, count, _, size, _ = frames.shape
    seen = (frames - backgrounds[:, None]).abs().amax(2) > SEEN  # B x N x S x S
    grid = coordinates(frames[0, :1])[0]  # 2 x S x S
    area = seen.flatten(2).sum(2).float()
    centroid = (seen[:, :, None] * grid).flatten(3).sum(3) / area.clamp(min=1)[..., None]
    axis, far = grid[0, 0], torch.tensor(9.0)
    columns, rows = seen.any(2), seen.any(3)
    low = torch.stack([torch.where(columns, axis, far).amin(-1), torch.where(rows, axis, far).amin(-1)], -1)
    high = torch.stack([torch.where(columns, axis, -far).amax(-1), torch.where(rows, axis, -far).amax(-1)], -1)
    edge = 1 - 1.5 / size
    return area, centroid, low - 1 / size, high + 1 / size, low < -edge, high > edge


def _candidates(frames: torch.Tensor, sprites: torch.Tensor, backgrounds: torch.Tensor, start_centres: torch.Tensor,
                start_halves: torch.Tensor) -> tuple[Poses, torch.Tensor]:
    """B x N x C candidate poses for the coarse search (see the module docstring), and which frames are hard.

    A frame is hard where the sprite is small (under a ninth of the frame) or cut by an edge of the frame.
    """
    batch, count, _, size, _ = frames.shape
    area0, offset = seen_at_start(sprites, backgrounds, start_centres, start_halves)
    area, centroid, low, high, cut_low, cut_high = _seen(frames, backgrounds)
    angles = (torch.arange(SEARCH_ANGLES) + 0.5) * 2 * math.pi / SEARCH_ANGLES  # A
    # the sprite's extent (alpha over 0.5) at each angle, in sprite units: B x A x 2
    points = rotation(angles) @ coordinates(sprites[:1])[0].flatten(1)  # A x 2 x P
    solid = (sprites[:, 3].flatten(1) > 0.5)[:, None, None]  # B x 1 x 1 x P
    far = torch.tensor(9.0)
    extent_low, extent_high = torch.where(solid, points, far).amin(-1), torch.where(solid, points, -far).amax(-1)
    # sizes: from the area, and from the box's span along an axis no edge cuts
    by_area = (area / area0[:, None].clamp(min=1)).sqrt()  # B x N
    extent = (extent_high - extent_low) * start_halves[:, None, None]
    span = (high - low)[:, :, None] / extent[:, None]  # B x N x A x 2
    whole = ~(cut_low | cut_high)[:, :, None]
    by_span = torch.where(whole, span, torch.zeros(())).amax(-1)
    by_span = torch.where(by_span > 0, by_span, by_area[..., None])  # B x N x A
    scales = torch.cat([(by_area[..., None, None] * torch.tensor(SEARCH_SCALES)).expand(-1, -1, SEARCH_ANGLES, -1),
                        by_span[..., None]], -1)  # B x N x A x Z
    halves = (start_halves[:, None, None, None] * scales).clamp(min=0.02)
    turned = angles[:, None].expand_as(halves)
    # centres: where the centroid says, or where the uncut side of the box says
    turned_offset = (rotation(turned) @ offset[:, None, None, None, :, None])[..., 0]
    by_centroid = centroid[:, :, None, None] - halves[..., None] * turned_offset
    near_low = high[:, :, None, None] - extent_high[:, None, :, None] * halves[..., None]
    near_high = low[:, :, None, None] - extent_low[:, None, :, None] * halves[..., None]
    cut_low, cut_high = cut_low[:, :, None, None], cut_high[:, :, None, None]
    by_box = torch.where(cut_low & ~cut_high, near_low, torch.where(cut_high & ~cut_low, near_high, by_centroid))
    centres = torch.stack([by_centroid, by_box], -2)  # B x N x A x Z x 2 x 2
    hard = (area < size**2 / 9) | (cut_low | cut_high).flatten(2).any(-1)
    both = (-1, -1, -1, -1, 2)  # each angle and size with both centres
    return Poses(centres.reshape(batch, count, -1, 2), turned[..., None].expand(both).reshape(batch, count, -1),
                 halves[..., None].expand(both).reshape(batch, count, -1)), hard


def _errors(sprites: torch.Tensor, backgrounds: torch.Tensor, candidates: Poses, frame: int,
            target: torch.Tensor) -> torch.Tensor:
    """B x C: each candidate's mean absolute error in one frame, drawn at the size of target (B x N x 3 x s x s)."""
    one = Poses(candidates.centres[:, frame], candidates.angles[:, frame], candidates.halves[:, frame])
    return render(sprites, backgrounds, one, target.shape[-1]).sub(target[:, frame, None]).abs().mean((2, 3, 4))


def _refine(sprites: torch.Tensor, backgrounds: torch.Tensor, start: Poses, target: torch.Tensor, steps: int,
            rates: tuple[float, float, float]) -> tuple[Poses, torch.Tensor]:
    """The poses (B x M) refined by Adam on the mean absolute error against target (B x M x 3 x s x s), and that
    error."""
    with torch.enable_grad():
        centre = start.centres.clone().requires_grad_(True)
        angle = start.angles.clone().requires_grad_(True)
        log_half = start.halves.log().clone().requires_grad_(True)
        optimiser = torch.optim.Adam([{"params": [p], "lr": r} for p, r in zip((centre, angle, log_half), rates)])
        schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1 - 0.9 * step / steps)
        for _ in range(steps):
            drawn = render(sprites, backgrounds, Poses(centre, angle, log_half.exp()), target.shape[-1])
            error = (drawn - target).abs().mean((2, 3, 4))
            optimiser.zero_grad()
            error.sum().backward()
            optimiser.step()
            schedule.step()
    return Poses(centre.detach(), angle.detach(), log_half.detach().exp()), error.detach()


def track(frames: torch.Tensor, sprites: torch.Tensor, backgrounds: torch.Tensor, start_centres: torch.Tensor,
          start_halves: torch.Tensor) -> Poses:
    """The sprite's pose (B x N) in each frame (B x N x 3 x S x S) whose drawing best explains it (module docstring).

    sprites (B x 4 x H x W) as load_sprites gives them, backgrounds B x 3 x S x S, and each sprite's
    centre (B x 2) and half side (B) in frame 0, where its angle is 0.
    """
    batch, count, _, size, _ = frames.shape
    tiny, small = (F.avg_pool2d(frames.flatten(0, 1), k).unflatten(0, (batch, count)) for k in (SEARCH_SHRINK, 2))
    candidates, hard = _candidates(frames, sprites, backgrounds, start_centres, start_halves)
    with torch.no_grad():  # frame by frame, to bound the memory
        errors = torch.stack([_errors(sprites, backgrounds, candidates, n, tiny) for n in range(count)], 1)
        for b, n in hard.nonzero().tolist():  # again at half size
            one = slice(b, b + 1)
            errors[b, n] = _errors(sprites[one], backgrounds[one], candidates.rows(one), n, small[one])[0]
    best = errors.topk(CANDIDATES_REFINED, 2, largest=False).indices
    refined, error = _refine(sprites, backgrounds, candidates.pick(best).flat(),
                             small.repeat_interleave(CANDIDATES_REFINED, 1), REFINE_STEPS[0], REFINE_RATES[0])
    winner = error.unflatten(1, (count, -1)).argmin(2, keepdim=True)
    unflat = Poses(refined.centres.unflatten(1, (count, -1)), refined.angles.unflatten(1, (count, -1)),
                   refined.halves.unflatten(1, (count, -1)))
    return _refine(sprites, backgrounds, unflat.pick(winner).flat(), frames, REFINE_STEPS[1], REFINE_RATES[1])[0]


def make_clips(motion: str, sprites: torch.Tensor, backgrounds: torch.Tensor, centre: torch.Tensor, half: torch.Tensor,
               num_frames: int = FRAMES) -> Clips:
    """Clips of the sprites (B x 4 x H x W) over the backgrounds, moving by the motion from frame-0 centres and
    halves."""
    truth = Poses(*poses(motion, centre, half, num_frames))
    drawn = draw_sprites(sprites, truth.centres, truth.angles, truth.halves, backgrounds.shape[-1])
    return Clips(motion, compose(drawn, backgrounds), sprites, backgrounds, truth, drawn[:, :, 3],
                 asymmetry(sprites, backgrounds, half))


def heldout_clips(motion: str, sprites: torch.Tensor, count: int, size: int, generator: torch.Generator) -> Clips:
    """count clips of the motion by the training clips' rules (clips.random_clips), each of one of the given sprites."""
    drawn = [random_clips(sprite[None], 1, 1, size, generator, motion) for sprite in sprites[:count]]
    return make_clips(motion, sprites[:count], torch.cat([c.background for c in drawn]),
                      torch.cat([c.centres[:, 0] for c in drawn]), torch.cat([c.halves[:, 0] for c in drawn]))


def start_pictures(prompts: tuple[str, ...] = PICTURE_PROMPTS, seed: int = 0) -> list[Image.Image]:
    """One picture per prompt from our diffusion model, as the Video tab makes a start frame from a prompt."""
    seeds = [seed + n for n in range(len(prompts))]
    return generate_batch(ImageSettings(prompts[0], backend="diffusion", seed=seed, num_images=1), list(prompts), seeds)


def picture_clips(motion: str, pictures: list[Image.Image], size: int) -> Clips:
    """Clips that start from the app's start frames of the pictures (video.start_frame): the middle square is the
    sprite (opaque), at centre (0, 0) with half side 0.5, on a plain background of the frame's edge colour."""
    frames = torch.stack([frame_tensor(start_frame(p)) for p in pictures])
    side = frames.shape[-1] // 2
    low = (frames.shape[-1] - side) // 2
    square = frames[:, :, low : low + side, low : low + side]
    sprites = torch.cat([square, torch.ones_like(square[:, :1])], 1)
    backgrounds = frames[:, :, :1, :1].expand(-1, -1, size, size)
    count = len(pictures)
    return make_clips(motion, sprites, backgrounds, torch.zeros(count, 2), torch.full((count,), 0.5))


def copy_last(start: torch.Tensor, num_frames: int) -> torch.Tensor:
    """The baseline that predicts no motion: B x num_frames copies of the start frame, all the model sees."""
    return start[:, None].expand(-1, num_frames, -1, -1, -1)


def linear(first: torch.Tensor, second: torch.Tensor, num_frames: int) -> torch.Tensor:
    """The baseline that moves the sprite on in a straight line: B x num_frames frames after the first.

    The second (real) frame as it is, then its sprite moved on at its speed between the two frames. The
    sprite is the pixels that differ from a plane fitted to the frame's border (the background) by more
    than SEEN; its speed is the shift of their centroid.
    """
    background = fit_plane(second, border_weights(second))
    masks = [((frame - background).abs().amax(1, keepdim=True) > SEEN).float() for frame in (first, second)]
    grid = coordinates(second)

    def centre(mask: torch.Tensor) -> torch.Tensor:
        return (mask * grid).flatten(2).sum(2) / mask.flatten(2).sum(2).clamp(min=1)

    speed = centre(masks[1]) - centre(masks[0])  # B x 2, frame units per frame
    sprite = torch.cat([second * masks[1], masks[1]], 1)
    frames = [second]
    for k in range(1, num_frames):
        moved = F.grid_sample(sprite, (grid - k * speed[:, :, None, None]).permute(0, 2, 3, 1), align_corners=False)
        frames.append((moved[:, :3] + background * (1 - moved[:, 3:])).clamp(0, 1))
    return torch.stack(frames, 1)


@torch.no_grad()
def model_frames(model: Sequencer, start: torch.Tensor, motion: str, num_frames: int) -> torch.Tensor:
    """The model's B x num_frames frames after the start frames, as the app rolls them out."""
    index = torch.full((len(start),), MOTIONS.index(motion))
    return torch.stack([step.frame for step in rollout(model, start, index, num_frames)], 1)


def predictions(model: Sequencer, clips: Clips) -> dict[str, torch.Tensor]:
    """Frames 1 to T - 1 of each clip as the model, the baselines and the truth make them."""
    frames = clips.frames
    count = frames.shape[1] - 1
    return {"model": model_frames(model, frames[:, 0], clips.motion, count),
            "linear": linear(frames[:, 0], frames[:, 1], count),
            "copy_last": copy_last(frames[:, 0], count), "true_frames": frames[:, 1:]}


def inside_share(clips: Clips) -> torch.Tensor:
    """B x T: the share of each sprite's area that is inside the frame."""
    size = clips.frames.shape[-1]
    whole = clips.sprites[:, 3].flatten(1).mean(1)[:, None] * (clips.poses.halves * size) ** 2
    return (clips.alpha.flatten(2).sum(2) / whole.clamp(min=1e-6)).clamp(max=1)


def _shifted(padded: torch.Tensor, offset: float, dim: int, size: int) -> torch.Tensor:
    """size pixels along dim of a frame padded by MATCH_REACH, moved by offset pixels (between pixels: linear)."""
    whole = math.floor(offset)
    near = padded.narrow(dim, MATCH_REACH + whole, size)
    part = offset - whole
    return near if part == 0 else torch.lerp(near, padded.narrow(dim, MATCH_REACH + whole + 1, size), part)


def kept_pixels(made: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """B x N x S x S: where the made frames (B x N x 3 x S x S) show each true pixel's colours, within MATCH, at its
    place or moved by up to MATCH_REACH pixels in steps of 1 / MATCH_STEPS."""
    size = truth.shape[-1]
    padded = F.pad(made.flatten(0, 1), (MATCH_REACH,) * 4, mode="replicate").unflatten(0, made.shape[:2])
    offsets = [k / MATCH_STEPS for k in range(-MATCH_REACH * MATCH_STEPS, MATCH_REACH * MATCH_STEPS + 1)]
    nearest = torch.full(truth.shape[:2] + truth.shape[-2:], math.inf)
    for across in offsets:
        moved = _shifted(padded, across, -1, size)
        for down in offsets:
            nearest = torch.minimum(nearest, (_shifted(moved, down, -2, size) - truth).abs().amax(2))
    return nearest < MATCH


def away_from_edge(size: int) -> torch.Tensor:
    """S x S: the frame's pixels but its outermost MATCH_REACH rows and columns, the ones pixels kept scores: a sprite
    drawn a pixel ahead has carried its pixels there out of the frame, and that is not a pixel lost."""
    inner = torch.zeros(size, size, dtype=torch.bool)
    inner[MATCH_REACH:-MATCH_REACH, MATCH_REACH:-MATCH_REACH] = True
    return inner


def _mean(values: torch.Tensor, scored: torch.Tensor) -> float | None:
    return values[scored].mean().item() if scored.any() else None


def centre_errors(clips: Clips, found: Poses) -> torch.Tensor:
    """B x len(HORIZONS): how far (pixels) the found poses put what is seen of each sprite from where the truth
    puts it (the point seen_at_start gives, so that a sprite that looks the same turned is not counted off-centre)."""
    truth = Poses(clips.poses.centres[:, HORIZONS], clips.poses.angles[:, HORIZONS], clips.poses.halves[:, HORIZONS])
    point = seen_at_start(clips.sprites, clips.backgrounds, clips.poses.centres[:, 0], clips.poses.halves[:, 0])[1]
    return (place(found, point) - place(truth, point)).norm(dim=-1) * PIXELS


def measure(clips: Clips, made: torch.Tensor) -> dict:
    """The scores of made frames (B x T - 1, frames 1 on) against the clips: per horizon, and the worst pixels kept."""
    found_at = [h - 1 for h in HORIZONS]
    truth = Poses(clips.poses.centres[:, HORIZONS], clips.poses.angles[:, HORIZONS], clips.poses.halves[:, HORIZONS])
    start_centres, start_halves = clips.poses.centres[:, 0], clips.poses.halves[:, 0]
    found = track(made[:, found_at], clips.sprites, clips.backgrounds, start_centres, start_halves)
    centre = centre_errors(clips, found)
    angle = torch.rad2deg(found.angles - truth.angles).remainder(360)
    angle = torch.minimum(angle, 360 - angle)
    size = (found.halves / truth.halves - 1).abs() * 100
    large = clips.poses.halves * clips.frames.shape[-1] / 2 >= MIN_HALF_PX  # B x T: big enough, in the frame's pixels
    visible = (inside_share(clips)[:, HORIZONS] >= MIN_INSIDE) & large[:, HORIZONS] & (truth.halves <= MAX_HALF)
    scored = visible & clips.readable
    angled = scored & (clips.asymmetry[:, None] >= MIN_ASYMMETRY)
    sprite = (clips.alpha[:, 1:] > 0.5) & large[:, 1:, None, None] & away_from_edge(clips.frames.shape[-1])
    sprite &= sprite.flatten(2).sum(2)[..., None, None] >= MIN_PIXELS_INSIDE
    kept = (sprite & kept_pixels(made, clips.frames[:, 1:])).flatten(2).sum(2).sum(0)
    inside = sprite.flatten(2).sum(2).sum(0)  # per frame, pooled over the clips
    share = torch.where(inside > 0, kept / inside.clamp(min=1) * 100, torch.tensor(float("nan")))
    figures: dict = {}
    for n, h in enumerate(HORIZONS):
        figures[f"h{h}"] = {
            "centre_px": _mean(centre[:, n], scored[:, n]), "angle_deg": _mean(angle[:, n], angled[:, n]),
            "size_pct": _mean(size[:, n], scored[:, n]),
            "pixels_kept_pct": None if share[h - 1].isnan() else share[h - 1].item(),
            "clips_scored": int(scored[:, n].sum()), "clips_angle_scored": int(angled[:, n].sum()),
            "clips_unreadable": int((visible[:, n] & ~clips.readable[:, n]).sum()),
        }
    figures["worst_pixels_kept_pct"] = None if share.isnan().all() else share.nan_to_num(float("inf")).min().item()
    return figures


def goals(figures: dict[str, dict]) -> list[dict]:
    """The issue's goals for one predictor's figures (motion -> measure's figures): each with its measure and verdict.

    A goal nothing was scored for is not met.
    """
    at = f"h{GOAL_HORIZON}"
    rows = [("spin angle error (°)", "spin", figures["spin"][at]["angle_deg"], SPIN_ANGLE_GOAL)]
    rows += [("centre error (px)", m, figures[m][at]["centre_px"], CENTRE_GOAL) for m in CENTRE_GOAL_MOTIONS]
    rows += [("size error (%)", m, figures[m][at]["size_pct"], SIZE_GOAL) for m in SIZE_GOAL_MOTIONS]
    out = [{"goal": f"{name} at {GOAL_HORIZON} frames ≤ {limit:g}", "motion": motion, "measured": value,
            "passed": value is not None and value <= limit} for name, motion, value, limit in rows]
    for motion in MOTIONS:
        value = figures[motion]["worst_pixels_kept_pct"]
        out.append({"goal": f"pixels kept in every frame ≥ {PIXELS_KEPT_GOAL:g} %", "motion": motion,
                    "measured": value, "passed": value is not None and value >= PIXELS_KEPT_GOAL})
    return out


def goals_met(figures: dict[str, dict]) -> bool:
    """Whether one predictor's figures (motion -> measure's figures) meet every goal of the issue."""
    return all(row["passed"] for row in goals(figures))


def heldout_sets(clips_per_motion: int, seed: int = 0, size: int = 64,
                 cache_dir: Path = config.CACHE_DIR) -> list[Clips]:
    """clips_per_motion held-out clips of each motion, every held-out emoji used once before any is used twice."""
    sprites = load_sprites("heldout", cache_dir)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(sprites), generator=generator)
    needed = clips_per_motion * len(MOTIONS)
    chosen = sprites[order.repeat(needed // len(sprites) + 1)[:needed]]
    return [heldout_clips(motion, chosen[n * clips_per_motion :], clips_per_motion, size, generator)
            for n, motion in enumerate(MOTIONS)]


def model_figures(model: Sequencer, clips_per_motion: int = 2, seed: int = 0, size: int = 64,
                  cache_dir: Path = config.CACHE_DIR) -> dict[str, dict]:
    """The model's figures alone (motion -> measure's figures) on a few held-out clips per motion: what a test of a
    shipped model checks with goals_met, at a quarter of evaluate's cost per clip."""
    figures = {}
    for clips in heldout_sets(clips_per_motion, seed, size, cache_dir):
        made = model_frames(model, clips.frames[:, 0], clips.motion, clips.frames.shape[1] - 1)
        figures[clips.motion] = measure(clips, made)
    return figures


def evaluate(model: Sequencer, clips_per_motion: int = 8, seed: int = 0, size: int = 64,
             cache_dir: Path = config.CACHE_DIR, pictures: list[Image.Image] | None = None) -> dict:
    """All the figures of the model card: per clip set, predictor, motion and horizon, and the goals."""
    started = time.perf_counter()
    sets = {"heldout": heldout_sets(clips_per_motion, seed, size, cache_dir)}
    if pictures:
        sets["pictures"] = [picture_clips(m, pictures, size) for m in MOTIONS]
    result: dict = {"clips_per_motion": {"heldout": clips_per_motion, "pictures": len(pictures or [])}, "seed": seed,
                    "frames": FRAMES, "horizons": list(HORIZONS), "figures": {}, "goals": {}}
    for name, clip_sets in sets.items():
        figures: dict = {p: {} for p in PREDICTORS}
        for clips in clip_sets:
            for predictor, made in predictions(model, clips).items():
                figures[predictor][clips.motion] = measure(clips, made)
        result["figures"][name] = figures
        result["goals"][name] = {p: goals(figures[p]) for p in PREDICTORS}
    result["seconds"] = time.perf_counter() - started
    return result


def _number(value: float | None, unit: str, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}{unit}"


SET_TITLES = {"heldout": "held-out emoji", "pictures": "start frames drawn by our diffusion model"}
PREDICTOR_TITLES = {"model": "model", "linear": "linear", "copy_last": "copy_last",
                    "true_frames": "true frames (the tracker's own error)"}


def table(result: dict) -> str:
    """The figures and the goals as Markdown tables, as in the model card."""
    lines = []
    for name, figures in result["figures"].items():
        lines += [f"**{SET_TITLES[name]}**, {result['clips_per_motion'][name]} clips per motion: "
                  "centre error (px) · angle error (°) · size error (%) · pixels kept (%), means over the scored clips",
                  "", "| motion | h | clips (angle) | " + " | ".join(PREDICTOR_TITLES[p] for p in PREDICTORS) + " |",
                  "|---|---|---|" + "---|" * len(PREDICTORS)]
        for motion in MOTIONS:
            for h in HORIZONS:
                first = figures["model"][motion][f"h{h}"]
                cells = []
                for p in PREDICTORS:
                    f = figures[p][motion][f"h{h}"]
                    cells.append(f"{_number(f['centre_px'], '')} · {_number(f['angle_deg'], '', 0)} · "
                                 f"{_number(f['size_pct'], '')} · {_number(f['pixels_kept_pct'], '', 0)}")
                counts = f"{first['clips_scored']} ({first['clips_angle_scored']})"
                counts += f", {first['clips_unreadable']} unreadable" if first["clips_unreadable"] else ""
                lines.append(f"| {motion} | {h} | {counts} | " + " | ".join(cells) + " |")
        lines.append("")
    for name, by_predictor in result["goals"].items():
        lines += [f"**Goals, {SET_TITLES[name]}** (✓ met, ✗ not)", "",
                  "| goal | motion | " + " | ".join(PREDICTORS) + " |", "|---|---|" + "---|" * len(PREDICTORS)]
        for n, row in enumerate(by_predictor["model"]):
            cells = [f"{_number(by_predictor[p][n]['measured'], '')} {'✓' if by_predictor[p][n]['passed'] else '✗'}"
                     for p in PREDICTORS]
            lines.append(f"| {row['goal']} | {row['motion']} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.training.evaluate_video",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=config.VIDEO_MODEL_DIR)
    parser.add_argument("--clips-per-motion", type=int, default=8, help="held-out emoji clips per motion")
    parser.add_argument("--pictures", type=int, default=len(PICTURE_PROMPTS),
                        help=f"start frames drawn by our diffusion model, for the first prompts of: "
                             f"{', '.join(PICTURE_PROMPTS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    pictures = start_pictures(PICTURE_PROMPTS[: args.pictures], args.seed) if args.pictures else None
    result = evaluate(load_sequencer(args.model), args.clips_per_motion, args.seed, pictures=pictures)
    print(f"{FRAMES} frames per clip, the model from frame 0, horizon h = frame h; {result['seconds']:.0f} s")
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
