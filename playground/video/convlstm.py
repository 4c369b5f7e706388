"""A convolutional LSTM that makes a video frame by frame (Shi et al. 2015), conditioned on a motion.

The start frame is first taken apart into two layers, as an animator would: the **sprite** (its
colours and an alpha matte, found by a small convolutional network) and the **background** behind it
(a plane fitted to the pixels the matte leaves, which fills in what the sprite hides). The sprite's
**pivot**, the point it turns and grows around, is the middle of its box (sprite_box), as a viewer
would put it.

Then, frame by frame, the last frame goes through an encoder (two stride-2 convolutions, 64 -> 16
pixels) into stacked ConvLSTM cells. A ConvLSTM cell is an LSTM whose matrix products are
convolutions, so its memory is a map: at every position a long-term cell state c, and three gates
made from the input and the previous output h:

    i = sigmoid(input gate)   how much of the new candidate g to write into the cell
    f = sigmoid(forget gate)  how much of the old cell state to keep
    o = sigmoid(output gate)  how much of the cell to show as this frame's output h
    c = f * c + i * g,  h = o * tanh(c)

Besides the frame, the first cell reads where the sprite is in it (how much of each place it covers), the motion
asked for, the move that made the frame and the sprite's box (its middle and size: how far a bounce has to fall).
From the last cell's output the network says how the sprite moves in this step: a shift, a turn and a change of
size, reading the LSTM where the sprite is (so its memory there is what counts), where the sprite started (its box
in the start frame: every motion's rule places the sprite from there, so a step can make up for what the steps
before it got wrong), how close the sprite is to each frame edge (contact: a bounce turns in the frame where it
touches the floor, which the head, reading the box alone, mixed up with the frame before and stood still in) and
which frame of a bounce's and a shake's period this is (clock, as a gain and a shift of each of the head's hidden
units: a bounce's step is its height above the floor times what that frame of the bounce asks for, a product that a
head adding its inputs made only roughly, so the falls lost a little height each bounce). Besides that step, each
motion has a learned step down at each frame of the periods, in shares of how far the start's square was from the
floor (floor_gap, read from the matte): a bounce then falls by the same shares of its height in every period, whatever
the height, where the head alone, misjudging the height by 10 to 20 %, stopped short of the floor or went past it by
one to four pixels; a motion that does not fall learns shares near zero. It also says, at every
place of its map, whether the sprite will be there in the frame it makes: trained against the truth, this keeps
where the sprite is and where it goes in the memory itself, so the gates' maps show the LSTM keeping and rewriting
it. The steps add up to the sprite's pose, and the next frame is the start sprite drawn at that pose over the
background. The sprite is always sampled from the start frame, so it stays sharp and whole over a long video and
leaves the frame whole; what the LSTM must carry is how the sprite has moved so far (how far along its motion it
is, a slide's speed), which it reads from the frames and moves it made.

Every step also returns the gates, cell states and that expected place, which the Video tab shows as maps.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from playground.video.motions import BOUNCE_PERIOD, MOTIONS, SHAKE_PERIOD, floor_height
from playground.weights import load_weights, read_config, save_model

POSE_SCALE = (0.05, 0.05, 0.3, 0.05)  # the step head's outputs times these: shift x, y (frame units), turn (rad), log size
SPRITE_CELL = 0.1  # a cell of the LSTM's map (4 x 4 pixels) is the sprite's when the sprite covers this much of it
EXPECTED_PRIOR = 0.1  # about the share of the frame a training clip's sprite covers
SUPERSAMPLE = 2  # a shrunk sprite is sampled at twice the frame size and averaged down, as the clips are drawn
CONTACT_PIXELS = 4  # the step head feels a frame edge from this many pixels away (1 touching, 0 this far or more)
STEP_HEAD_WIDTH = 64  # hidden units of the step head, which the contact and the clock also reach
CLOCK_PERIODS = (BOUNCE_PERIOD, SHAKE_PERIOD)  # the motions that repeat, in frames: the step head reads their phase


@dataclass
class SequencerConfig:
    width: int = 16  # channels at full size (matte network and encoder); 2x at half and quarter size
    hidden: int = 32  # channels of each ConvLSTM cell's state (h and c)
    layers: int = 2  # stacked ConvLSTM cells
    motion_dim: int = 8  # size of the learned motion embedding fed to every position of the first cell
    motions: int = len(MOTIONS)
    image_size: int = 64  # the frame size it was trained at (any multiple of 4 runs)


@dataclass
class Layers:
    """A start frame taken apart: what moves, what stays, and the point the sprite turns around."""

    sprite: torch.Tensor  # B x 4 x S x S: colours premultiplied by alpha, then alpha
    background: torch.Tensor  # B x 3 x S x S
    pivot: torch.Tensor  # B x 2, in the frame's coordinates (-1 left/top to 1 right/bottom)


@dataclass
class Step:
    """One made frame, the sprite's pose in it, and the LSTM's gates and cell states that made it."""

    frame: torch.Tensor  # B x 3 x S x S in [0, 1]
    pose: torch.Tensor  # B x 4: shift x, shift y (frame units), angle (radians, clockwise), log of the size factor
    gates: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # (input, forget, output) per cell
    cells: list[torch.Tensor]  # the cell state c per cell
    expected: torch.Tensor  # B x 1 x S/4 x S/4: the share of each place the LSTM expects the sprite to cover here


@dataclass
class GateMaps:
    """One frame's gates and memory as maps (H/4 x W/4), each the mean over the cells and their channels.

    Gates run from 0 (shut) to 1 (open); cell is the mean |cell state|, the size of what is remembered there;
    expected, from 0 to 1, is how much of each place the LSTM expects the sprite to cover in the frame it makes.
    """

    input: np.ndarray
    forget: np.ndarray
    output: np.ndarray
    cell: np.ndarray
    expected: np.ndarray

    def means(self) -> dict[str, float]:
        """The map means, the summary curve of the Video tab's plot."""
        return {name: float(getattr(self, name).mean()) for name in ("input", "forget", "output", "cell")}


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.GroupNorm(min(8, cout // 2), cout), nn.SiLU())


def coordinates(like: torch.Tensor) -> torch.Tensor:
    """Two channels (x, y) with each pixel centre's position in [-1, 1], as affine_grid places them."""
    batch, _, height, width = like.shape
    y = (torch.arange(height, dtype=like.dtype, device=like.device) * 2 + 1) / height - 1
    x = (torch.arange(width, dtype=like.dtype, device=like.device) * 2 + 1) / width - 1
    grid = torch.stack(torch.meshgrid(y, x, indexing="ij")[::-1])
    return grid.expand(batch, -1, -1, -1)


def fit_plane(frame: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The plane a + b x + c y per colour that best fits the frame's pixels under the weights (B x 1 x S x S).

    The backgrounds of our clips are planes (plain colours and linear gradients), so the plane fitted
    to the pixels that are not sprite also says what the sprite hides.
    """
    batch, _, size, _ = frame.shape
    design = torch.cat([torch.ones_like(frame[:, :1]), coordinates(frame)], 1).flatten(2)  # B x 3 x P
    w = weights.flatten(2) + 1e-4
    ridge = 1e-4 * torch.eye(3, dtype=frame.dtype, device=frame.device)
    normal = (design * w) @ design.transpose(1, 2) + ridge  # B x 3 x 3
    right = (design * w) @ frame.flatten(2).transpose(1, 2)  # B x 3 x 3 (terms x colours)
    coefficients = torch.linalg.solve(normal, right)
    return (coefficients.transpose(1, 2) @ design).reshape(batch, 3, size, size)


def border_weights(frame: torch.Tensor, width: int = 2) -> torch.Tensor:
    """B x 1 x S x S: 1 on the frame's outer pixels, where the background shows in a start frame, 0 inside."""
    weights = torch.zeros_like(frame[:, :1])
    weights[..., :width, :], weights[..., -width:, :] = 1, 1
    weights[..., :, :width], weights[..., :, -width:] = 1, 1
    return weights


def sprite_box(alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The box around a matte (B x 1 x S x S): its middle (B x 2, in the frame's coordinates) and its width and
    height (B x 2, in pixels).

    The box's sides come from how much of each column and row the sprite covers (its largest alpha there, gaps
    between its parts filled), so a soft edge places them to a fraction of a pixel. The sprites of the training
    clips are centred on this box (playground.training.clips), and every sprite turns and grows around its middle.
    """

    def filled(profile: torch.Tensor) -> torch.Tensor:  # B x N, each value raised to the lower of the peaks beside it
        return torch.minimum(profile.cummax(1).values, profile.flip(1).cummax(1).values.flip(1))

    grid = coordinates(alpha)
    columns, rows = filled(alpha[:, 0].amax(1)), filled(alpha[:, 0].amax(2))  # B x W, B x H
    width, height = columns.sum(1), rows.sum(1)
    x = (columns * grid[:, 0, 0]).sum(1) / width.clamp(min=1e-6)
    y = (rows * grid[:, 1, :, 0]).sum(1) / height.clamp(min=1e-6)
    return torch.stack([x, y], 1), torch.stack([width, height], 1)


def box(coverage: torch.Tensor) -> torch.Tensor:
    """B x 4: the sprite_box of a coverage (B x 1 x S x S) as the LSTM and the step head read it: its middle in frame
    units and its width and height in frame sides; zeros once the sprite has gone."""
    middle, extent = sprite_box(coverage)
    return torch.cat([middle, extent / coverage.shape[-1]], 1)


def square_half(sprite: torch.Tensor) -> torch.Tensor:
    """B x 1: half the side of the sprite's square (the longer side of its box, B x 4 as box gives it), in frame units:
    the square a bounce turns on and falls by (playground.video.motions)."""
    return sprite[:, 2:].amax(1, keepdim=True)


def contact(sprite: torch.Tensor, size: int) -> torch.Tensor:
    """B x 4: how close the sprite's square (the longer side of its box, B x 4 as box gives it, around the box's
    middle) is to the left, right, top and bottom edges of a frame of size pixels: 1 touching or past it, falling to 0
    CONTACT_PIXELS away; 0 for a sprite gone.

    What a bounce turns on: the floor is where the square touches the bottom edge (playground.video.motions).
    """
    middle = sprite[:, :2]
    half = square_half(sprite)
    gaps = torch.cat([middle - half + 1, 1 - middle - half], 1)[:, [0, 2, 1, 3]] * size / 2  # in pixels
    return ((1 - gaps / CONTACT_PIXELS).clamp(0, 1) * (half > 0)).float()


def floor_gap(sprite: torch.Tensor) -> torch.Tensor:
    """B x 1: how far (frame units) the sprite's square (square_half; B x 4 as box gives it) has to fall to touch the
    bottom edge of the frame, 0 where it is there or below: how far a bounce from there falls."""
    return (floor_height(square_half(sprite)) - sprite[:, 1:2]).clamp(min=0)


def clock(frame_index: int, like: torch.Tensor) -> torch.Tensor:
    """B x sum(CLOCK_PERIODS) (B = len(like)): which frame of each repeating motion's period frame frame_index is,
    one-hot per period.

    Every video starts at frame 0, a bounce at its top and a shake at its middle, so where a repeating motion is
    in its period is the frame's number: read as a transformer reads a token's position, it tells the step head
    the frame a bounce turns in and how its speed changes there, which the LSTM otherwise has to count and, over 64
    frames, loses by a little more each bounce.
    """
    hot = torch.cat([F.one_hot(torch.tensor(frame_index % period), period) for period in CLOCK_PERIODS])
    return hot.to(like).expand(len(like), -1)


def place(layers: Layers, pose: torch.Tensor) -> torch.Tensor:
    """The sprite at the pose on a transparent frame, B x 4 x S x S (colours premultiplied, then alpha).

    A frame point p shows the start frame's point q = pivot + R(-angle) (p - pivot - shift) / size, sampled
    as a graphics card samples a texture: bilinearly at the start size (at the start pose every pixel is the start
    frame's own); smaller, at SUPERSAMPLE times the frame size and averaged down (anti-aliasing, as the clips are
    drawn), so a shrinking sprite keeps its colours; larger, bicubically, so a growing one stays sharper.
    """
    shift, angle, scale = pose[:, :2], pose[:, 2], torch.exp(-pose[:, 3])
    cos, sin = torch.cos(angle), torch.sin(angle)
    a = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2) * scale[:, None, None]
    pivot = layers.pivot[..., None]
    b = pivot - a @ (pivot + shift[..., None])
    theta, (_, channels, height, width), size = torch.cat([a, b], -1), layers.sprite.shape, pose[:, 3]
    sprite = torch.zeros_like(layers.sprite)
    for rows, times, mode in ((size == 0, 1, "bilinear"), (size < 0, SUPERSAMPLE, "bilinear"), (size > 0, 1, "bicubic")):
        if rows.any():  # each sprite is sampled once, by the rule for its size
            grid = F.affine_grid(theta[rows], [int(rows.sum()), channels, height * times, width * times],
                                 align_corners=False)
            drawn = F.avg_pool2d(F.grid_sample(layers.sprite[rows], grid, mode=mode, align_corners=False), times)
            if mode == "bicubic":  # bicubic overshoots: keep valid premultiplied colours
                alpha = drawn[:, 3:].clamp(0, 1)
                drawn = torch.cat([drawn[:, :3].clamp(min=0).minimum(alpha), alpha], 1)
            sprite[rows] = drawn
    return sprite


def over(sprite: torch.Tensor, background: torch.Tensor) -> torch.Tensor:
    """A placed sprite (B x 4 x S x S, as place gives it) over the background: the frame, B x 3 x S x S."""
    return (sprite[:, :3] + background * (1 - sprite[:, 3:])).clamp(0, 1)


def draw(layers: Layers, pose: torch.Tensor) -> torch.Tensor:
    """The sprite at the pose over the background, B x 3 x S x S."""
    return over(place(layers, pose), layers.background)


class ConvLSTMCell(nn.Module):
    """One ConvLSTM cell: the four gates from one 3x3 convolution of [input, h], plus any pre-activations given."""

    def __init__(self, cin: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(cin + hidden, 4 * hidden, 3, padding=1)
        with torch.no_grad():
            self.gates.bias[hidden : 2 * hidden].fill_(1.0)  # forget gate starts open: remember by default

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor,
                added: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, tuple]:
        pre = self.gates(torch.cat([x, h], 1))
        i, f, o, g = (pre if added is None else pre + added).chunk(4, 1)
        i, f, o, g = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o), torch.tanh(g)
        c = f * c + i * g
        h = o * torch.tanh(c)
        return h, c, (i, f, o)


State = list[tuple[torch.Tensor, torch.Tensor]]  # (h, c) per cell


class Sequencer(nn.Module):
    """Matte network (layers of the start frame) + encoder -> stacked ConvLSTM cells -> step head."""

    def __init__(self, config: SequencerConfig):
        super().__init__()
        self.config = config
        w = config.width
        # the matte network: frame, frame minus the border's plane, coordinates -> alpha
        self.matte_full = _conv(3 + 3 + 2, w)
        self.matte_half = _conv(w, 2 * w, stride=2)
        self.matte_quarter = _conv(2 * w, 2 * w, stride=2)
        self.matte_up = _conv(2 * w + 2 * w, 2 * w)
        self.matte_out = _conv(2 * w + w, w)
        self.matte_head = nn.Conv2d(w, 1, 3, padding=1)
        # the recurrent part: frame and coordinates -> 16 x 16 features -> cells -> the step's move
        self.motion = nn.Embedding(config.motions, config.motion_dim)
        self.encode_half = _conv(3 + 2, w, stride=2)
        self.encode_quarter = _conv(w, 2 * w, stride=2)
        cin = 2 * w + 2 + config.motion_dim + 4 + 4  # features, coordinates, motion, the last move, the sprite's box
        self.cells = nn.ModuleList(
            ConvLSTMCell(cin if n == 0 else config.hidden, config.hidden) for n in range(config.layers)
        )
        self.step_head = nn.Sequential(nn.Linear(2 * config.hidden + config.motion_dim + 4 + 4, STEP_HEAD_WIDTH),
                                       nn.SiLU(), nn.Linear(STEP_HEAD_WIDTH, 4))
        # how close the sprite is to each frame edge -> the head's hidden units
        self.read_contact = nn.Linear(4, STEP_HEAD_WIDTH, bias=False)
        # the sprite's box in the start frame -> the head's hidden units: what a bounce's height and a slide's path are
        # measured from, so a step can set right what the steps before it got wrong
        self.read_start = nn.Linear(4, STEP_HEAD_WIDTH, bias=False)
        # the frame's place in each repeating motion's period -> a gain and a shift of each of the head's hidden units
        self.read_clock = nn.Linear(sum(CLOCK_PERIODS), 2 * STEP_HEAD_WIDTH, bias=False)
        # each motion's step down at each frame of the periods, in shares of the start's gap to the floor (floor_gap)
        self.floor_step = nn.Embedding(config.motions, sum(CLOCK_PERIODS))
        self.expected_head = nn.Conv2d(config.hidden, 1, 1)  # the last cell's output -> the sprite's next place
        self.read_place = nn.Conv2d(1, 4 * config.hidden, 3, padding=1, bias=False)  # where the sprite is -> gates
        self.register_buffer("pose_scale", torch.tensor(POSE_SCALE), persistent=False)  # not in the weights file
        with torch.no_grad():  # start as "nothing moves"
            self.step_head[-1].weight.zero_()
            self.step_head[-1].bias.zero_()
            self.read_contact.weight.zero_()
            self.read_start.weight.zero_()
            self.read_clock.weight.zero_()
            self.floor_step.weight.zero_()
            self.expected_head.weight.zero_()  # start expecting the sprite's usual share everywhere
            self.expected_head.bias.fill_(math.log(EXPECTED_PRIOR / (1 - EXPECTED_PRIOR)))

    def separate(self, start: torch.Tensor) -> Layers:
        """The start frame (B x 3 x S x S in [0, 1]) as sprite, background and pivot."""
        plane = fit_plane(start, border_weights(start))
        full = self.matte_full(torch.cat([start * 2 - 1, (start - plane) * 2, coordinates(start)], 1))
        half = self.matte_half(full)
        quarter = self.matte_quarter(half)
        x = self.matte_up(torch.cat([F.interpolate(quarter, scale_factor=2.0), half], 1))
        x = self.matte_out(torch.cat([F.interpolate(x, scale_factor=2.0), full], 1))
        alpha = torch.sigmoid(self.matte_head(x).float())
        background = fit_plane(start, (1 - alpha) ** 2)
        sprite = (start - (1 - alpha) * background).clamp(0, 1) * (alpha > 0.02)
        return Layers(torch.cat([sprite, alpha], 1), background, sprite_box(alpha)[0])

    def initial_state(self, frame: torch.Tensor) -> State:
        batch, _, height, width = frame.shape
        zeros = frame.new_zeros(batch, self.config.hidden, height // 4, width // 4)
        return [(zeros, zeros) for _ in self.cells]

    def forward(self, frame: torch.Tensor, coverage: torch.Tensor, motion: torch.Tensor, last_move: torch.Tensor,
                state: State, frame_index: int,
                start_box: torch.Tensor) -> tuple[torch.Tensor, State, list[tuple], torch.Tensor]:
        """How the sprite moves from this frame to the next (B x 4, as Step.pose), the new state, each cell's gates,
        and where the LSTM expects the sprite in the next frame (as Step.expected).

        coverage (B x 1 x S x S) is the sprite's alpha in this frame: the step head reads the last cell's output
        where the sprite is (its mean and largest value there), so the memory that moves the sprite is kept
        with it; the first cell's gates read the coverage of each place, and the cell and the head read the
        sprite's box (box of the coverage), the head also its contact with the frame edges (contact).
        last_move (B x 4) is the move that made this frame (zeros for the start frame): like a writer reading the
        last word, the LSTM reads the frame it made and the move it made. frame_index is this frame's number in the
        video (0 for the start frame), which the head reads as the phase of the repeating motions (clock).
        start_box (B x 4) is the box of the start frame's sprite: every motion's rule places the sprite from its
        start pose, so the head can step to where the sprite should be rather than only on from where it is; its gap
        to the floor (floor_gap) is the unit of the motion's step down.
        """
        x = self.encode_quarter(self.encode_half(torch.cat([frame * 2 - 1, coordinates(frame)], 1)))
        current_box = box(coverage)
        wanted = torch.cat([self.motion(motion), last_move / self.pose_scale, current_box], 1)
        x = torch.cat([x, coordinates(x), wanted[:, :, None, None].expand(-1, -1, *x.shape[-2:])], 1)
        covered = F.adaptive_avg_pool2d(coverage, x.shape[-2:])  # how much of each place the sprite covers
        places = [self.read_place(covered)] + [None] * (len(self.cells) - 1)  # the first cell reads where the sprite is
        new_state, gates = [], []
        for cell, (h, c), added in zip(self.cells, state, places, strict=True):
            h, c, cell_gates = cell(x, h, c, added)
            new_state.append((h, c))
            gates.append(cell_gates)
            x = h
        weights = torch.where(covered.flatten(1).amax(1)[:, None, None, None] > SPRITE_CELL, covered,
                              torch.ones_like(covered))  # where the sprite is; everywhere once it has left the frame
        inside = weights > SPRITE_CELL
        summary = torch.cat([(x * weights).sum((2, 3)) / weights.sum((2, 3)),
                             x.masked_fill(~inside, float("-inf")).amax((2, 3)), wanted], 1)
        head = self.step_head[0](summary.float()) + self.read_contact(contact(current_box, coverage.shape[-1])) \
            + self.read_start(start_box.float())
        phase = clock(frame_index, summary).float()
        gain, shift = self.read_clock(phase).chunk(2, 1)
        down = (self.floor_step(motion).float() * phase).sum(1, keepdim=True) * floor_gap(start_box.float())
        move = self.step_head[2](self.step_head[1](head * (1 + gain) + shift)) * self.pose_scale + F.pad(down, (1, 2))
        return move, new_state, gates, torch.sigmoid(self.expected_head(x).float())


def gate_maps(step: Step) -> GateMaps:
    """The gates and |cell state| as maps, each the mean over the cells, their channels and the batch, and
    where the sprite is expected.

    The batch is one clip, or in a video of several objects one memory per object: the gates and memory shown are
    their mean, the expected place any object's.
    """

    def mean_map(tensors: list[torch.Tensor]) -> np.ndarray:
        return torch.stack([t.float().mean((0, 1)) for t in tensors]).mean(0).numpy()

    return GateMaps(input=mean_map([g[0] for g in step.gates]), forget=mean_map([g[1] for g in step.gates]),
                    output=mean_map([g[2] for g in step.gates]), cell=mean_map([c.abs() for c in step.cells]),
                    expected=step.expected.float().amax((0, 1)).numpy())


def objects(alpha: torch.Tensor, min_pixels: int) -> list[torch.Tensor]:
    """The separate objects of a matte (1 x 1 x S x S), left to right: each one's region, 1 x 1 x S x S of 0 and 1.

    An object is a connected region of alpha > 0.5 (labels spread by 3 x 3 max pooling until they
    settle) of at least min_pixels pixels, widened by a pixel to keep its soft edge.
    """
    solid = (alpha[0, 0] > 0.5).float()
    labels = torch.arange(1, solid.numel() + 1, dtype=torch.float32, device=alpha.device).reshape(solid.shape) * solid
    while True:
        spread = F.max_pool2d(labels[None, None], 3, 1, 1)[0, 0] * solid
        if torch.equal(spread, labels):
            break
        labels = spread
    found = []
    for label in labels.unique()[1:]:
        region = (labels == label).float()
        if region.sum() >= min_pixels:
            found.append((region.nonzero()[:, 1].float().mean().item(), F.max_pool2d(region[None, None], 3, 1, 1)))
    return [mask for _, mask in sorted(found, key=lambda item: item[0])]


def rollout(model: Sequencer, start: torch.Tensor, motion: torch.Tensor, num_frames: int,
            layers: Layers | None = None, given_poses: torch.Tensor | None = None) -> Iterator[Step]:
    """Yield the num_frames frames that follow the start frames (B x 3 x S x S), one at a time.

    Each made frame is the next input: the LSTM sees what it drew, as in the app. layers is the start
    frame taken apart by model.separate, when the caller has it already. given_poses (B x num_frames x 4,
    the start frame's zeros first) is for training only: each step then reads the frame and the move the
    true poses give (teacher forcing), so every step is judged from the truth.
    """
    layers = layers or model.separate(start)
    state = model.initial_state(start)
    pose = move = start.new_zeros(len(start), 4)
    frame, coverage = start, place(layers, pose)[:, 3:]
    start_box = box(coverage)
    for n in range(num_frames):
        if given_poses is not None and n > 0:
            pose, move = given_poses[:, n], given_poses[:, n] - given_poses[:, n - 1]
            sprite = place(layers, pose)
            frame, coverage = over(sprite, layers.background), sprite[:, 3:]
        move, state, gates, expected = model(frame, coverage, motion, move, state, n, start_box)
        pose = pose + move
        sprite = place(layers, pose)
        frame, coverage = over(sprite, layers.background), sprite[:, 3:]
        yield Step(frame, pose, gates, [c for _, c in state], expected)


def save_sequencer(model: Sequencer, folder: Path) -> None:
    save_model(model, model.config, folder)


def load_sequencer(folder: Path) -> Sequencer:
    """A sequencer saved by save_sequencer, ready to roll out."""
    return load_weights(Sequencer(SequencerConfig(**read_config(folder, "video model"))), folder)
