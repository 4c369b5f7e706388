"""A convolutional LSTM that makes a video frame by frame (Shi et al. 2015), conditioned on a motion.

Each frame goes through an encoder (two stride-2 convolutions, 64 -> 16 pixels), then through
stacked ConvLSTM cells, then a decoder back to full size. A ConvLSTM cell is an LSTM whose
matrix products are convolutions, so its memory is a map: at every position a long-term cell
state c, and three gates made from the input and the previous output h:

    i = sigmoid(input gate)   how much of the new candidate g to write into the cell
    f = sigmoid(forget gate)  how much of the old cell state to keep
    o = sigmoid(output gate)  how much of the cell to show as this frame's output h
    c = f * c + i * g,  h = o * tanh(c)

The decoder does not paint every pixel anew, which would blur: it predicts where each pixel of the
last real frame (the reference) has moved to (a flow field), a mask, and colours. The next frame
is mask * warp(reference, flow) + (1 - mask) * colours: moved pixels stay sharp because they are
sampled once from a real frame, and the colours fill what the move uncovers. Warping from the
reference rather than from the previous made frame keeps blur from piling up over a long video;
counting how far the sprite has gone since the reference is the cell state's job.

Frames are rolled out autoregressively: the model's own frame is its next input, marked as made
(not observed) by an input channel. Every step reports the mean gate activations and cell-state
magnitude, which the Video tab plots.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from playground.video.motions import MOTIONS
from playground.weights import load_weights, read_config, save_model


@dataclass
class SequencerConfig:
    width: int = 32  # encoder channels at full size; 2x at half size, and the ConvLSTM input at quarter size
    hidden: int = 64  # channels of each ConvLSTM cell's state (h and c)
    layers: int = 2  # stacked ConvLSTM cells
    motion_dim: int = 16  # size of the learned motion embedding fed to every cell
    motions: int = len(MOTIONS)
    image_size: int = 64  # the frame size it was trained at (any multiple of 4 runs)


@dataclass
class GateActivity:
    """One frame's mean gate activations over all cells and positions, and the mean |cell state|."""

    input: float
    forget: float
    output: float
    cell: float


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.GroupNorm(8, cout), nn.SiLU())


def _coordinates(like: torch.Tensor) -> torch.Tensor:
    """Two channels with each position's x and y in [-1, 1]: convolutions alone do not know where they are."""
    batch, _, height, width = like.shape
    y = torch.linspace(-1, 1, height, dtype=like.dtype, device=like.device)
    x = torch.linspace(-1, 1, width, dtype=like.dtype, device=like.device)
    grid = torch.stack(torch.meshgrid(y, x, indexing="ij")[::-1])
    return grid.expand(batch, -1, -1, -1)


class ConvLSTMCell(nn.Module):
    """One ConvLSTM cell: the four gates from one 3x3 convolution of [input, h]."""

    def __init__(self, cin: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(cin + hidden, 4 * hidden, 3, padding=1)
        with torch.no_grad():
            self.gates.bias[hidden : 2 * hidden].fill_(1.0)  # forget gate starts open: remember by default

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, tuple]:
        i, f, o, g = self.gates(torch.cat([x, h], 1)).chunk(4, 1)
        i, f, o, g = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o), torch.tanh(g)
        c = f * c + i * g
        h = o * torch.tanh(c)
        return h, c, (i, f, o)


State = list[tuple[torch.Tensor, torch.Tensor]]  # (h, c) per cell


class Sequencer(nn.Module):
    """Encoder -> stacked ConvLSTM cells -> decoder of flow, mask and colours (see the module docstring)."""

    def __init__(self, config: SequencerConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.motion = nn.Embedding(config.motions, config.motion_dim)
        self.encode_full = _conv(3 + 1 + 2, w)  # frame, observed flag, coordinates
        self.encode_half = _conv(w, 2 * w, stride=2)
        self.encode_quarter = _conv(2 * w, 2 * w, stride=2)
        cin = 2 * w + config.motion_dim
        self.cells = nn.ModuleList(
            ConvLSTMCell(cin if n == 0 else config.hidden, config.hidden) for n in range(config.layers)
        )
        self.decode_half = _conv(config.hidden + 2 * w, 2 * w)
        self.decode_full = _conv(2 * w + w + 2, w)
        self.head = nn.Conv2d(w, 2 + 1 + 3, 3, padding=1)  # flow (x, y), mask, colours
        with torch.no_grad():  # start as "copy the reference frame": no flow, mask fully open
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()
            self.head.bias[2].fill_(3.0)

    def initial_state(self, frame: torch.Tensor) -> State:
        batch, _, height, width = frame.shape
        zeros = frame.new_zeros(batch, self.config.hidden, height // 4, width // 4)
        return [(zeros, zeros) for _ in self.cells]

    def forward(self, frame: torch.Tensor, observed: torch.Tensor, reference: torch.Tensor, motion: torch.Tensor,
                state: State) -> tuple[torch.Tensor, State, list[tuple]]:
        """The next frame (B x 3 x S x S in [0, 1]) from this one, the new state, and each cell's gates.

        observed (B) is 1 where frame is real, 0 where the model made it; reference is the last real frame.
        """
        flag = observed.to(frame.dtype)[:, None, None, None].expand(-1, 1, *frame.shape[-2:])
        full = self.encode_full(torch.cat([frame * 2 - 1, flag, _coordinates(frame)], 1))
        half = self.encode_half(full)
        x = self.encode_quarter(half)
        x = torch.cat([x, self.motion(motion)[:, :, None, None].expand(-1, -1, *x.shape[-2:])], 1)
        new_state, gates = [], []
        for cell, (h, c) in zip(self.cells, state, strict=True):
            h, c, cell_gates = cell(x, h, c)
            new_state.append((h, c))
            gates.append(cell_gates)
            x = h
        x = self.decode_half(torch.cat([F.interpolate(x, scale_factor=2.0), half], 1))
        x = self.decode_full(torch.cat([F.interpolate(x, scale_factor=2.0), full, _coordinates(full)], 1))
        out = self.head(x).float()
        flow, mask, colours = out[:, :2], torch.sigmoid(out[:, 2:3]), torch.sigmoid(out[:, 3:])
        grid = _coordinates(flow).permute(0, 2, 3, 1) + flow.permute(0, 2, 3, 1)
        moved = F.grid_sample(reference.float(), grid, padding_mode="border", align_corners=True)
        return mask * moved + (1 - mask) * colours, new_state, gates


def gate_activity(gates: list[tuple], state: State) -> GateActivity:
    """The means the Video tab plots for one frame (all cells, all positions, the whole batch)."""
    means = [torch.stack([g.float().mean() for g in cell]) for cell in gates]
    i, f, o = torch.stack(means).mean(0).tolist()
    cell = torch.stack([c.float().abs().mean() for _, c in state]).mean().item()
    return GateActivity(input=i, forget=f, output=o, cell=cell)


def rollout(model: Sequencer, context: torch.Tensor, motion: torch.Tensor, num_frames: int) -> Iterator[tuple[torch.Tensor, GateActivity]]:
    """Yield the frames that follow the context frames (B x K x 3 x S x S), one at a time, with gate activity.

    The context frames are read first (observed); then each made frame is the next input.
    """
    batch, known = context.shape[:2]
    state = model.initial_state(context[:, 0])
    observed = torch.ones(batch, device=context.device)
    frame = None
    for k in range(known):
        frame, state, gates = model(context[:, k], observed, context[:, k], motion, state)
    reference = context[:, -1]
    for n in range(num_frames):
        yield frame, gate_activity(gates, state)
        if n + 1 < num_frames:
            frame, state, gates = model(frame, observed * 0, reference, motion, state)


def save_sequencer(model: Sequencer, folder: Path) -> None:
    save_model(model, model.config, folder)


def load_sequencer(folder: Path) -> Sequencer:
    """A sequencer saved by save_sequencer, ready to roll out."""
    return load_weights(Sequencer(SequencerConfig(**read_config(folder, "video model"))), folder)
