"""The judge: which details of a prompt a picture of the world honours, checked one by one (GenEval's idea at our scale).

GenEval (Ghosh et al., 2023) does not ask one number how well a picture fits a prompt; it finds the objects with a
detector and checks each thing the prompt asked: the objects, their count, colours and positions. This judge does the
same for the 64 x 64 world of playground.image.world:
- a small detector (Judge) finds the objects: a heat map of object centres, each object's box, its name among
  the world's objects, or no name when none is likely (a smudge is not "a rocket"), and the style it is drawn in;
  the picture's style is the one its objects are most likely drawn in;
- colours are not learned: an object's colour words are read from its own pixels (those unlike the background around
  them) by the colour rule of pictures.colour_words, the background's from its top and bottom rows;
- check() compares what was found with what the prompt asked (world.read_prompt), detail by detail.
The detector is trained only on real renderings (playground.training.judge: scenes drawn by the scene code), never on
a generated picture and apart from the models it judges, so it does not share their blind spots; its model card gives
its accuracy on held-out scenes and on a drawing style it never saw.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from playground import config, registry
from playground.image.pictures import BACKGROUND, COLOUR_WORDS, colour_words, pictures_tensor, pixel_colours
from playground.image.world import (
    AREA_PHRASES,
    OBJECTS,
    SIZE,
    STYLE_WORDS,
    Request,
    area_of,
    plural,
    read_prompt,
    relation_holds,
    size_of,
)
from playground.validation import check_text
from playground.weights import load_weights, read_config, save_model

STRIDE = 4  # pixels per cell of the detector's maps (16 x 16 cells for 64 pixels)
PRESENT = 0.4  # a heat-map peak at least this high is an object
NAMED = 0.5  # an object whose most likely name has less probability than this is named None (not one of ours)
OBJECT_PIXEL_DIFFERENCE = 0.12  # an object's pixel differs from the background of its row by at least this (max channel)
BACKGROUND_ROWS = 4  # rows at the top and the bottom whose colour names the background


@dataclass
class JudgeConfig:
    width: int = 48  # channels at 32 x 32 pixels, doubled at each halving of the size
    objects: tuple[str, ...] = tuple(OBJECTS)  # the names the detector chooses among
    styles: tuple[str, ...] = ("noto", "twemoji", "fluent-flat", "fluent-modern", "fluent-high-contrast")


def _block(channels_in: int, channels_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1), nn.GroupNorm(8, channels_out),
                         nn.GELU(), nn.Conv2d(channels_out, channels_out, 3, padding=1), nn.GroupNorm(8, channels_out),
                         nn.GELU())


class Judge(nn.Module):
    """A CenterNet-style detector: at each 4 x 4-pixel cell, is an object centred here, where exactly, how big, which one."""

    def __init__(self, config: JudgeConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.at32 = _block(3, w, 2)  # 32 x 32
        self.at16 = _block(w, 2 * w, 2)  # 16 x 16: the maps' cells
        self.at8 = _block(2 * w, 4 * w, 2)  # 8 x 8: context for the largest objects
        self.lateral = nn.Conv2d(4 * w, 2 * w, 1)
        self.mix = _block(2 * w, 2 * w)
        # per cell: centre logit, offset in the cell (x, y), box size (w, h) in frame units, name and style logits
        self.maps = nn.Conv2d(2 * w, 5 + len(config.objects) + len(config.styles), 1)

    def forward(self, pictures: torch.Tensor) -> dict[str, torch.Tensor]:
        """pictures: B x 3 x 64 x 64 in [0, 1]. Maps at 16 x 16 cells."""
        quarter = self.at16(self.at32(pictures * 2 - 1))
        eighth = self.at8(quarter)
        maps = self.maps(self.mix(quarter + F.interpolate(self.lateral(eighth), scale_factor=2.0)))
        names = 5 + len(self.config.objects)
        return {"centre": maps[:, 0], "offset": maps[:, 1:3].sigmoid(), "size": maps[:, 3:5],
                "names": maps[:, 5:names], "styles": maps[:, names:]}


def save_judge(model: Judge, folder: Path) -> None:
    save_model(model, model.config, folder)


def load_judge(folder: Path | str) -> Judge:
    """A judge saved by save_judge."""
    folder = Path(folder)
    saved = read_config(folder, "judge")
    saved = {**saved, "objects": tuple(saved["objects"]), "styles": tuple(saved["styles"])}
    return load_weights(Judge(JudgeConfig(**saved)), folder)


def load_default_judge() -> Judge:
    """The shipped judge (assets/models/emoji-judge), loaded once."""
    return registry.load(("judge", str(config.JUDGE_MODEL_DIR)), lambda: load_judge(config.JUDGE_MODEL_DIR))


@dataclass(frozen=True)
class Found:
    """One object the judge found."""

    name: str | None  # a world object, None when no name is likely enough (NAMED)
    confidence: float  # the probability of that name
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels
    colours: tuple[str, ...]  # colour words of its pixels, most covering first

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass(frozen=True)
class Seen:
    """Everything the judge saw in one picture."""

    objects: tuple[Found, ...]
    style: str
    background: tuple[str, ...]  # one colour word, or the top and bottom ones of a gradient


def _background_rows(picture: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
    """SIZE x 3: each row's background colour, the median of its pixels outside the objects' boxes."""
    free = np.ones(picture.shape[:2], dtype=bool)
    for x0, y0, x1, y1 in boxes:
        free[max(0, int(y0)): int(np.ceil(y1)), max(0, int(x0)): int(np.ceil(x1))] = False
    rows = np.full((picture.shape[0], 3), np.nan)
    for y in range(picture.shape[0]):
        if free[y].sum() >= 4:
            rows[y] = np.median(picture[y][free[y]], axis=0)
    known = np.flatnonzero(~np.isnan(rows[:, 0]))
    if len(known) == 0:
        return np.repeat(np.median(picture.reshape(-1, 3), axis=0)[None], picture.shape[0], 0)
    for channel in range(3):
        rows[:, channel] = np.interp(np.arange(picture.shape[0]), known, rows[known, channel])
    return rows


def _colour_word(rgb: np.ndarray) -> str:
    return COLOUR_WORDS[int(pixel_colours(np.round(rgb[None] * 255).astype(np.uint8))[0])]


@torch.no_grad()
def look(judge: Judge, pictures: torch.Tensor) -> list[Seen]:
    """What the judge sees in each picture (B x 3 x 64 x 64 in [0, 1])."""
    out = judge(pictures.float())
    heat = out["centre"].sigmoid()
    peaks = (heat >= PRESENT) & (heat == F.max_pool2d(heat[:, None], 3, 1, 1)[:, 0])
    names = out["names"].softmax(1)
    styles = (out["styles"].softmax(1) * heat[:, None]).sum((2, 3)).argmax(1)  # weighted by how object-like each cell is
    seen = []
    for index in range(len(pictures)):
        picture = pictures[index].permute(1, 2, 0).numpy()
        boxes, labels = [], []
        for y, x in torch.nonzero(peaks[index]).tolist():
            cx, cy = (x + out["offset"][index, 0, y, x].item()) * STRIDE, (y + out["offset"][index, 1, y, x].item()) * STRIDE
            w, h = (out["size"][index, :, y, x].clamp(min=0.02) * SIZE).tolist()
            boxes.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
            probability, name = names[index, :, y, x].max(0)
            labels.append((judge.config.objects[name] if probability >= NAMED else None, probability.item()))
        rows = _background_rows(picture, boxes)
        found = []
        for box, (name, probability) in zip(boxes, labels, strict=True):
            x0, y0, x1, y1 = (int(np.clip(round(v), 0, SIZE)) for v in box)
            patch = picture[y0:y1, x0:x1]
            mask = np.abs(patch - rows[y0:y1, None]).max(-1) >= OBJECT_PIXEL_DIFFERENCE
            rgba = np.concatenate([np.round(patch * 255), mask[..., None] * 255.0], -1).astype(np.uint8)
            found.append(Found(name, probability, box, tuple(colour_words(rgba)) if mask.any() else ()))
        top = _colour_word(rows[:BACKGROUND_ROWS].mean(0))
        bottom = _colour_word(rows[-BACKGROUND_ROWS:].mean(0))
        seen.append(Seen(tuple(sorted(found, key=lambda f: f.centre)), judge.config.styles[styles[index]],
                         (top,) if top == bottom else (top, bottom)))
    return seen


@dataclass(frozen=True)
class Check:
    """One detail of a prompt and whether a picture honours it."""

    detail: str  # what was asked, in the prompt's words: "two apples", "blue apple", "apple in the top left"
    kind: str  # "object", "count", "colour", "size", "position", "relation", "background" or "style"
    honoured: bool
    found: str  # what the judge saw instead, or "" when honoured


@dataclass(frozen=True)
class Verdict:
    """A picture's checks: the details of the prompt it honours and those it does not."""

    checks: tuple[Check, ...] = field(default=())

    @property
    def honoured(self) -> int:
        return sum(c.honoured for c in self.checks)

    @property
    def all_honoured(self) -> bool:
        return all(c.honoured for c in self.checks)


def _named(objects: tuple[Found, ...], name: str) -> list[Found]:
    return sorted((f for f in objects if f.name == name), key=lambda f: -f.confidence)


def _what(objects: tuple[Found, ...]) -> str:
    """"found a cat, 2 apples and something unnamed": each name once, with its count."""
    counts = Counter(f.name for f in objects)
    if not counts:
        return "found nothing"
    words = [(f"{n} {plural(name)}" if n > 1 else name) if name else
             f"{n} unnamed things" if n > 1 else "something unnamed" for name, n in counts.items()]
    return "found " + (words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1])


def check(request: Request, seen: Seen) -> Verdict:
    """Each detail the request asks for, checked against what the judge saw."""
    checks = []
    for asked in request.things:
        matches = _named(seen.objects, asked.name)
        noun = plural(asked.name) if asked.count > 1 else asked.name
        if asked.count > 1:
            checks.append(Check(f"{asked.count} {noun}", "count", len(matches) == asked.count,
                                "" if len(matches) == asked.count else f"found {len(matches)}"))
        else:
            checks.append(Check(asked.name, "object", bool(matches), "" if matches else _what(seen.objects)))
        best = matches[: asked.count]
        if asked.colour:
            honoured = bool(best) and all(asked.colour in f.colours for f in best)
            checks.append(Check(f"{asked.colour} {noun}", "colour", honoured, "" if honoured else
                                (" and ".join(best[0].colours) or "no colour") if best else "not found"))
        if asked.size:
            sizes = [size_of(max(f.box[2] - f.box[0], f.box[3] - f.box[1])) for f in best]
            honoured = bool(best) and all(s == asked.size for s in sizes)
            checks.append(Check(f"{asked.size} {noun}", "size", honoured, "" if honoured else
                                sizes[0] if sizes else "not found"))
        if asked.area:
            areas = [area_of(f.centre) for f in best]
            honoured = bool(best) and all(a == asked.area for a in areas)
            checks.append(Check(f"{noun} {AREA_PHRASES[asked.area][0]}", "position", honoured, "" if honoured else
                                areas[0] if areas else "not found"))
    if request.relation:
        first, relation, second = request.relation
        a = _named(seen.objects, request.things[first].name)
        b = _named(seen.objects, request.things[second].name)
        honoured = bool(a and b) and relation_holds(relation, a[0].centre, b[0].centre)
        checks.append(Check(f"{request.things[first].name} {relation} {request.things[second].name}", "relation",
                            honoured, "" if honoured else "not both found" if not (a and b) else "placed otherwise"))
    if request.background:
        honoured = tuple(request.background) == seen.background or (
            len(request.background) == 1 and seen.background == request.background * 2)
        asked = " to ".join(request.background)
        checks.append(Check(f"{asked} background", "background", honoured, "" if honoured else
                            " to ".join(seen.background)))
    if request.style:
        honoured = seen.style == request.style
        checks.append(Check(f"{STYLE_WORDS[request.style]} style", "style", honoured, "" if honoured else
                            STYLE_WORDS[seen.style]))
    return Verdict(tuple(checks))


def world_picture(picture: Image.Image) -> Image.Image:
    """A picture as the judge reads it: RGB at SIZE x SIZE, see-through pixels on the world's background, a smaller
    picture enlarged pixel by pixel (nearest: a 32-pixel picture keeps its sharp pixels) and a larger one averaged."""
    picture = picture.convert("RGBA")
    picture = Image.alpha_composite(Image.new("RGBA", picture.size, (*BACKGROUND, 255)), picture).convert("RGB")
    if picture.size == (SIZE, SIZE):
        return picture
    larger = max(picture.size) > SIZE
    return picture.resize((SIZE, SIZE), Image.Resampling.BOX if larger else Image.Resampling.NEAREST)


def judge_pictures(prompt: str, pictures: list[Image.Image]) -> list[Verdict]:
    """Each picture's checks against its prompt: which details of the prompt (read with the world's words) it honours.

    What the Image tab shows under generated pictures and /judge_image answers; the shipped judge, loaded once.
    """
    prompt = check_text("prompt", prompt, config.MAX_PROMPT_CHARS)
    if not isinstance(pictures, list) or not 1 <= len(pictures) <= config.MAX_NUM_IMAGES:
        got = len(pictures) if isinstance(pictures, list) else type(pictures).__name__
        raise ValueError(f"pictures must be a list of 1 to {config.MAX_NUM_IMAGES} pictures, got {got}")
    for picture in pictures:
        if not isinstance(picture, Image.Image):
            raise ValueError(f"pictures must be pictures (PIL images), got {type(picture).__name__}")
    request = read_prompt(prompt)
    return [check(request, s) for s in see(pictures)]


def see(pictures: list[Image.Image]) -> list[Seen]:
    """What the shipped judge sees in each picture, read at the world's size."""
    return look(load_default_judge(), pictures_tensor([world_picture(p) for p in pictures]))


def verdict_text(verdict: Verdict) -> str:
    """A verdict on one line: "✓ apple · ✗ blue apple (red) · ✓ apple in the top left corner", what the judge saw
    instead in brackets; "" when the prompt asked for nothing the judge checks."""
    return " · ".join(f"✓ {c.detail}" if c.honoured else f"✗ {c.detail} ({c.found})" for c in verdict.checks)
