"""Scenes of the world (playground.image.world): one to four emoji objects drawn on the fly, with their captions.

    python -m playground.training.scenes --out scenes.png [--count 24] [--seed 0]   (a look: scenes and captions)
    python -m playground.training.scenes --objects --out assets/examples/world_objects.png   (the Image tab's objects)

A scene is drawn from a Request, the same description a prompt is read into: the objects with their counts,
colours, sizes and places, how two of them stand to each other, the background and the style. sample_request
draws one at random (every detail chosen); place puts its objects in the frame so that every stated detail
holds and no two objects overlap; render draws the placed scene from the emoji sprites of its style; caption
writes it at one of CAPTION_LEVELS levels of detail (world.describe picks the words and their order).

Held out: whole combinations never appear in a training picture, so the benchmark can ask for them
(playground.training.evaluate): an object in a colour in an area (e.g. a blue banana in the top left), an object
at a count, and a pair of objects. Objects asked in a colour are recoloured: the sprite's shading kept, its hue
replaced by world.COLOUR_RGB, so that the colour rule (pictures.colour_words) reads it back as the word.
"""

import argparse
import hashlib
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from playground import config
from playground.image.pictures import BACKGROUND, colour_words
from playground.image.world import (
    AREAS,
    CATEGORIES,
    CATEGORY,
    CATEGORY_WORDS,
    COLOUR_RGB,
    MAX_COUNT,
    OBJECT_COLOURS,
    OBJECTS,
    SIZE,
    SIZE_PIXELS,
    Asked,
    Request,
    area_of,
    article,
    describe,
    relation_holds,
)
from playground.training.emoji_data import SPLITS
from playground.training.emoji_styles import STYLES, TRAINING_STYLES, load_styled_sprites

LAYOUTS = {"single": 0.35, "count": 0.2, "pair": 0.25, "several": 0.2}  # share of each kind of scene
# Caption levels: 0 the objects' category ("an animal"), 1 names and counts, 2 + colours and sizes,
# 3 + places and relations, 4 + background and style always. Levels 1-3 say the style half the time, and the
# background whenever it is not the default: a caption that says no background means the default one, as a user
# who asks for "a cat" expects a cat on the plain light background. Level 0 is for scenes on the default background.
CAPTION_LEVELS = 5
LEVEL_WEIGHTS = (0.05, 0.15, 0.2, 0.25, 0.35)  # how often the image models see each caption level: detail is hard
CAPTION_DROPOUT = 0.1  # share of captions replaced by "" (the unconditional prompt, for guidance and random pictures)
HELDOUT_PERCENT = 10  # of object-colour-area, object-count and object-pair combinations
RECOLOURED_SHARE = 0.5  # objects drawn in an asked colour rather than their own
BACKGROUND_SHARES = {"default": 0.5, "plain": 0.3, "gradient": 0.2}
SIZE_SHARES = {None: 0.5, "small": 0.25, "big": 0.25}  # None: the medium size, which captions do not name
DEFAULT_BACKGROUND = ("white",)  # the light grey of every picture whose caption asks for no background
MARGIN = 1  # pixels kept free between two objects
AREA_MARGIN = 2  # pixels between an object's centre and the borders of the area it is asked in, so it is clearly there
CLEAR_OFFSET = 1.5  # a relation's main offset is at least this times the other one, so it reads one way only
PLACING_TRIES = 200
MONOCHROME_STYLE = "fluent-high-contrast"  # "black and white": its objects are never recoloured
ALPHA_CUTOFF = 0.05  # sprite pixels with less alpha are left out of its box
SHADING, SHADE_RANGE = 0.6, (0.4, 1.3)  # how much of a recoloured sprite's shading is kept, and its limits


@dataclass(frozen=True)
class Placed:
    """One object as drawn: which, in what colour, where."""

    name: str  # a word of world.OBJECTS
    colour: str | None  # the colour it is drawn in (world.OBJECT_COLOURS), None: its own colours
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1 and y1 excluded

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


@dataclass(frozen=True)
class Scene:
    """A request placed in the frame: what render draws and what the judge is trained to find."""

    request: Request  # every detail chosen; sizes None are medium, areas None were left to chance
    things: tuple[Placed, ...]
    background: tuple[str, ...]  # one colour, or top and bottom colours of a gradient
    style: str  # a key of world.STYLE_WORDS

    @property
    def full_request(self) -> Request:
        """The request with the background and style the scene was drawn with."""
        return replace(self.request, background=self.background, style=self.style)


@dataclass
class WorldSprites:
    """The world's objects in each style: sprites[(word, style)] is premultiplied RGBA (4 x h x w), cropped to its alpha."""

    sprites: dict[tuple[str, str], torch.Tensor]
    colours: dict[tuple[str, str], list[str]]  # the sprite's own colour words (pictures.colour_words), most covering first
    styles: tuple[str, ...]


def load_world_sprites(styles: tuple[str, ...] = TRAINING_STYLES, cache_dir: Path = config.CACHE_DIR) -> WorldSprites:
    """Every world object in every given style (both emoji splits: the world chooses its objects by name)."""
    wanted = {emoji: word for word, emoji in OBJECTS.items()}
    sprites, colours = {}, {}
    for split in SPLITS:
        styled = load_styled_sprites(split, styles, cache_dir)
        for image, name, style in zip(styled.images, styled.names, styled.styles, strict=True):
            if name in wanted:
                rows = torch.nonzero(image[3].amax(1) > ALPHA_CUTOFF)[:, 0]
                columns = torch.nonzero(image[3].amax(0) > ALPHA_CUTOFF)[:, 0]
                key = (wanted[name], style)
                sprites[key] = image[:, rows[0]: rows[-1] + 1, columns[0]: columns[-1] + 1].clone()
                alpha = image[3:].clamp(min=1e-6)
                straight = torch.cat([image[:3] / alpha, image[3:]]).permute(1, 2, 0)
                colours[key] = colour_words((straight * 255).round().byte().numpy())
    missing = sorted({(w, s) for w in OBJECTS for s in styles} - set(sprites))
    if missing:
        raise ValueError(f"no sprite for {missing[:5]} ({len(missing)} object-style pairs missing)")
    return WorldSprites(sprites, colours, tuple(styles))


# 1. What a scene shows


def is_heldout(*combination: object) -> bool:
    """Whether a combination (e.g. "banana", "blue", "top left") is held out of training: a stable hash."""
    digest = hashlib.sha256(repr(combination).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HELDOUT_PERCENT


def heldout_combinations(scene: Scene) -> list[tuple]:
    """The held-out combinations a scene shows (empty for every training scene)."""
    found = [(t.name, t.colour or "own", area_of(t.centre)) for t in scene.things]
    found += [(a.name, a.count) for a in scene.request.things if a.count > 1]
    names = sorted({t.name for t in scene.things})
    found += [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    return [c for c in found if is_heldout(*c)]


def _weighted(rng: random.Random, shares: dict):
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def sample_request(rng: random.Random, styles: tuple[str, ...] = TRAINING_STYLES) -> Request:
    """A random request with every detail chosen: the layout (LAYOUTS), objects, counts, colours, sizes, places."""
    layout = _weighted(rng, LAYOUTS)
    names = list(OBJECTS)
    style = rng.choice(styles)

    def colour() -> str | None:
        recoloured = style != MONOCHROME_STYLE and rng.random() < RECOLOURED_SHARE
        return rng.choice(OBJECT_COLOURS) if recoloured else None

    if layout == "single":
        things = (Asked(rng.choice(names), 1, colour(), _weighted(rng, SIZE_SHARES), rng.choice(AREAS)),)
        relation = None
    elif layout == "count":
        things = (Asked(rng.choice(names), rng.randint(2, MAX_COUNT), colour(), rng.choice([None, "small"])),)
        relation = None
    elif layout == "pair":
        first, second = rng.sample(names, 2)
        things = (Asked(first, 1, colour(), rng.choice([None, "small"])),
                  Asked(second, 1, colour(), rng.choice([None, "small"])))
        relation = (0, rng.choice(["left of", "right of", "above", "below", "next to"]), 1)
    else:
        count = rng.randint(2, MAX_COUNT)
        areas = rng.sample(AREAS, count)
        things = tuple(Asked(name, 1, colour(), rng.choice([None, "small"]), area)
                       for name, area in zip(rng.sample(names, count), areas, strict=True))
        relation = None
    kind = _weighted(rng, BACKGROUND_SHARES)
    background = DEFAULT_BACKGROUND if kind == "default" else (rng.choice(OBJECT_COLOURS),) if kind == "plain" \
        else tuple(rng.sample(OBJECT_COLOURS, 2))
    return Request(things, relation, background, style)


# 2. Where each object goes


def _side(size: str | None, rng: random.Random) -> int:
    low, high = SIZE_PIXELS[size or "medium"]
    return rng.randint(low, high)


def _box(sprite: torch.Tensor, side: int, centre: tuple[float, float]) -> tuple[int, int, int, int]:
    """The box of a sprite drawn with its larger side `side` pixels, centred near `centre`."""
    height, width = sprite.shape[1:]
    w, h = max(1, round(width * side / max(height, width))), max(1, round(height * side / max(height, width)))
    x0, y0 = round(centre[0] - w / 2), round(centre[1] - h / 2)
    return x0, y0, x0 + w, y0 + h


def _inside(box: tuple[int, int, int, int]) -> bool:
    return box[0] >= 0 and box[1] >= 0 and box[2] <= SIZE and box[3] <= SIZE


def _apart(box: tuple[int, int, int, int], others: list[Placed]) -> bool:
    return all(box[2] + MARGIN <= o.box[0] or o.box[2] + MARGIN <= box[0] or box[3] + MARGIN <= o.box[1]
               or o.box[3] + MARGIN <= box[1] for o in others)


def _centre_in(area: str | None, rng: random.Random) -> tuple[float, float]:
    """A random centre anywhere, or in the area at least AREA_MARGIN pixels from its borders."""
    if area is None:
        return rng.uniform(0, SIZE), rng.uniform(0, SIZE)
    index = AREAS.index(area)
    third = SIZE / 3
    column, row = index % 3, index // 3
    return (rng.uniform(column * third + AREA_MARGIN, (column + 1) * third - AREA_MARGIN),
            rng.uniform(row * third + AREA_MARGIN, (row + 1) * third - AREA_MARGIN))


def _clear(relation: str, first: Placed, second: Placed) -> bool:
    dx, dy = abs(first.centre[0] - second.centre[0]), abs(first.centre[1] - second.centre[1])
    return relation_holds(relation, first.centre, second.centre) and max(dx, dy) >= CLEAR_OFFSET * min(dx, dy)


def place(request: Request, world: WorldSprites, rng: random.Random, style: str | None = None) -> Scene | None:
    """The request's objects placed in the frame, every stated place, relation and size holding, none overlapping;
    None when PLACING_TRIES random layouts all failed (too many big objects for the frame).

    The style is the request's, else `style`, else a random one of the world's; the background the request's, else
    the default.
    """
    style = request.style or style or rng.choice(world.styles)
    for _ in range(PLACING_TRIES):
        placed: list[Placed] = []
        for asked in request.things:
            sprite = world.sprites[(asked.name, style)]
            for _ in range(asked.count):
                for _ in range(PLACING_TRIES):
                    box = _box(sprite, _side(asked.size, rng), _centre_in(asked.area, rng))
                    thing = Placed(asked.name, asked.colour, box)
                    if _inside(thing.box) and _apart(thing.box, placed) and (
                            asked.area is None or area_of(thing.centre) == asked.area):
                        placed.append(thing)
                        break
                else:
                    break
        if len(placed) == sum(a.count for a in request.things) and (
                request.relation is None or _clear(request.relation[1], placed[request.relation[0]],
                                                   placed[request.relation[2]])):
            return Scene(request, tuple(placed), request.background or DEFAULT_BACKGROUND, style)
    return None


def hidden(scene: Scene, world: WorldSprites) -> bool:
    """Whether an object would be hard to see: its colour (asked, else its own main one) is a background colour."""
    shown = {t.colour or (world.colours[(t.name, scene.style)] or [""])[0] for t in scene.things}
    if scene.style == MONOCHROME_STYLE:
        shown.add("black")
    return bool(shown & set(scene.background))


def sample_scene(rng: random.Random, world: WorldSprites, split: str = "train") -> Scene:
    """A random placed scene with every object visible; a "train" scene shows no held-out combination, a
    "heldout" one at least one."""
    while True:
        scene = place(sample_request(rng, world.styles), world, rng)
        if scene is not None and not hidden(scene, world) and bool(heldout_combinations(scene)) == (split == "heldout"):
            return scene


# 3. Pictures


def recolour(sprite: torch.Tensor, colour: str) -> torch.Tensor:
    """A premultiplied sprite in another colour: its shading kept, softened (brightness relative to its mean, times
    SHADING), and its hue replaced; softened so that the shadows of an orange object do not turn brown."""
    alpha = sprite[3:]
    rgb = sprite[:3] / alpha.clamp(min=1e-6)
    shade = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])[None]
    opaque = alpha > 0.5
    relative = shade / shade[opaque].mean().clamp(min=1e-3) if opaque.any() else shade
    shade = (1 + SHADING * (relative - 1)).clamp(*SHADE_RANGE)
    target = torch.tensor(COLOUR_RGB[colour], dtype=torch.float32)[:, None, None] / 255
    return torch.cat([(target * shade).clamp(0, 1) * alpha, alpha])


def background_picture(colours: tuple[str, ...]) -> torch.Tensor:
    """3 x SIZE x SIZE: a plain colour (white is the default light grey) or a top-to-bottom gradient."""
    rgb = [torch.tensor(BACKGROUND if c == "white" else COLOUR_RGB[c], dtype=torch.float32) / 255 for c in colours]
    if len(rgb) == 1:
        return rgb[0][:, None, None].expand(3, SIZE, SIZE).clone()
    mix = torch.linspace(0, 1, SIZE)[None, :, None]
    return (rgb[0][:, None, None] * (1 - mix) + rgb[1][:, None, None] * mix).expand(3, SIZE, SIZE).clone()


def scaled(sprite: torch.Tensor, box: tuple[int, int, int, int]) -> torch.Tensor:
    """A premultiplied sprite scaled to fill box (x0, y0, x1, y1), antialiased."""
    x0, y0, x1, y1 = box
    return F.interpolate(sprite[None], size=(y1 - y0, x1 - x0), mode="bilinear", antialias=True,
                         align_corners=False)[0].clamp(0, 1)


def render(scene: Scene, world: WorldSprites) -> torch.Tensor:
    """The scene as a 3 x SIZE x SIZE picture in [0, 1]: each object's sprite scaled into its box, composited in order."""
    canvas = background_picture(scene.background)
    for thing in scene.things:
        x0, y0, x1, y1 = thing.box
        drawn = scaled(world.sprites[(thing.name, scene.style)], thing.box)
        if thing.colour:
            drawn = recolour(drawn, thing.colour)
        canvas[:, y0:y1, x0:x1] = drawn[:3] + (1 - drawn[3:]) * canvas[:, y0:y1, x0:x1]
    return canvas


# 4. Captions


def at_level(request: Request, level: int, rng: random.Random) -> Request:
    """The request as a caption of this level of detail says it (see CAPTION_LEVELS)."""
    things = tuple(Asked(a.name, a.count, a.colour if level >= 2 else None, a.size if level >= 2 else None,
                         a.area if level >= 3 else None) for a in request.things)
    return Request(things, request.relation if level >= 3 else None,
                   request.background if level >= 4 or request.background != DEFAULT_BACKGROUND else (),
                   request.style if level >= 4 or rng.random() < 0.5 else None)


def caption(scene: Scene, level: int, rng: random.Random) -> str:
    """The scene's caption at a level of detail (0 to CAPTION_LEVELS - 1; level 1 for a scene on another
    background than the default, which level 0 cannot say)."""
    if level == 0 and scene.background == DEFAULT_BACKGROUND:
        words = []
        for asked in scene.request.things:
            singular, plural_words = CATEGORY_WORDS[CATEGORY[asked.name]]
            words.append(plural_words if asked.count > 1 else singular if singular == "food" else
                         f"{article(singular)} {singular}")
        return " and ".join(dict.fromkeys(words))
    return describe(at_level(scene.full_request, max(level, 1), rng), rng)


def captioned_batch(rng: random.Random, world: WorldSprites, size: int) -> tuple[torch.Tensor, list[str]]:
    """What the image models train on: B x 3 x 64 x 64 pictures in [-1, 1] of fresh training scenes, and their
    captions at levels drawn by LEVEL_WEIGHTS, one in ten (CAPTION_DROPOUT) the empty prompt."""
    scenes = [sample_scene(rng, world) for _ in range(size)]
    captions = ["" if rng.random() < CAPTION_DROPOUT else
                caption(s, rng.choices(range(CAPTION_LEVELS), LEVEL_WEIGHTS)[0], rng) for s in scenes]
    return torch.stack([render(s, world) for s in scenes]) * 2 - 1, captions


# 5. A look


def contact_sheet(scenes: list[Scene], world: WorldSprites, rng: random.Random, columns: int = 6) -> Image.Image:
    """Scenes drawn 2x with their full captions beneath, for a person to check the scenes match their words."""
    cell_w, cell_h = 2 * SIZE + 90, 2 * SIZE + 70
    rows = (len(scenes) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), "white")
    draw = ImageDraw.Draw(sheet)
    for index, scene in enumerate(scenes):
        x, y = index % columns * cell_w, index // columns * cell_h
        picture = (render(scene, world).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        sheet.paste(Image.fromarray(picture).resize((2 * SIZE, 2 * SIZE), Image.Resampling.NEAREST), (x + 45, y + 4))
        words = caption(scene, CAPTION_LEVELS - 1, rng).split()
        lines, line = [], ""
        for word in words:
            if len(line) + len(word) > 34:
                lines.append(line)
                line = ""
            line = f"{line} {word}".strip()
        draw.multiline_text((x + 4, y + 2 * SIZE + 8), "\n".join(lines + [line]), fill="black")
    return sheet


OBJECT_SIDE = 32  # pixels: an object's larger side on the object sheet
OBJECT_CELL = (76, 56)  # width, height of an object and its name on the sheet
OBJECT_COLUMNS = 10
HEADER_HEIGHT = 20  # a category's title line


def object_sheet(world: WorldSprites, style: str = "noto") -> Image.Image:
    """Every object of the world, one sprite of `style` each with its word beneath, in rows by category: the
    thumbnails of the Image tab's "What this model knows" (the app reads the PNG and never draws sprites)."""
    font = ImageFont.load_default(11)
    width, height = OBJECT_CELL
    rows = sum(1 + (len(objects) + OBJECT_COLUMNS - 1) // OBJECT_COLUMNS for objects in CATEGORIES.values())
    sheet = Image.new("RGB", (OBJECT_COLUMNS * width, rows * height), "white")
    draw = ImageDraw.Draw(sheet)
    y = 0
    for category, objects in CATEGORIES.items():
        draw.text((4, y + 4), category, fill="black", font=ImageFont.load_default(13))
        y += HEADER_HEIGHT
        for index, word in enumerate(objects):
            x, top = index % OBJECT_COLUMNS * width, y + index // OBJECT_COLUMNS * height
            sprite = world.sprites[(word, style)]
            box = _box(sprite, OBJECT_SIDE, (width / 2, OBJECT_SIDE / 2 + 2))
            x0, y0, x1, y1 = box
            drawn = scaled(sprite, box)
            cell = torch.ones(3, y1 - y0, x1 - x0)
            pixels = ((drawn[:3] + (1 - drawn[3:]) * cell).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            sheet.paste(Image.fromarray(pixels), (x + x0, top + y0))
            draw.text((x + (width - draw.textlength(word, font=font)) / 2, top + OBJECT_SIDE + 6), word, fill="black",
                      font=font)
        y += (len(objects) + OBJECT_COLUMNS - 1) // OBJECT_COLUMNS * height
    return sheet.crop((0, 0, sheet.width, y))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.training.scenes", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="the contact sheet to write (PNG)")
    parser.add_argument("--objects", action="store_true",
                        help="write every object of the world instead (one sprite each, named, by category; --style "
                             "default noto)")
    parser.add_argument("--count", type=int, default=24, help="scenes on the sheet")
    parser.add_argument("--split", choices=("train", "heldout"), default="train")
    parser.add_argument("--style", choices=STYLES, help="only this style (default: every training style)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=config.CACHE_DIR)
    args = parser.parse_args(argv)
    if args.objects:
        style = args.style or "noto"
        object_sheet(load_world_sprites((style,), args.cache_dir), style).save(args.out, optimize=True)
        print(f"{args.out}: {len(OBJECTS)} objects in {style} style")
        return 0
    world = load_world_sprites((args.style,) if args.style else TRAINING_STYLES, args.cache_dir)
    rng = random.Random(args.seed)
    scenes = [sample_scene(rng, world, args.split) for _ in range(args.count)]
    contact_sheet(scenes, world, rng).save(args.out)
    print(f"{args.out}: {args.count} {args.split} scenes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
