"""Image-to-video: a start frame (from a prompt through an image model, or given) rolled out by the ConvLSTM.

The LSTM makes every frame after the first from the frames before it, following a named motion;
generate_video checks the settings, makes or prepares the start frame, and rolls out the rest.
"""

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from PIL import Image, ImageChops, ImageOps

from playground import config, registry
from playground.image import ImageSettings, generate_batch
from playground.image.pictures import BACKGROUND, OPAQUE_ALPHA
from playground.validation import check_choice, check_int, check_text
from playground.video.convlstm import GateMaps, Layers, Sequencer, draw, gate_maps, load_sequencer, objects, place, rollout
from playground.video.motions import MOTIONS, find_motion, find_motions

AUTO_MOTION = "auto"  # take the motion from the prompt's words ("a bouncing ball"), else DEFAULT_MOTION
DEFAULT_MOTION = "bounce"
START_BACKENDS = ("diffusion", "gan")  # the image models that can make a start frame from the prompt
MODEL_NAME = "emoji-video"
MIN_OBJECT_PIXELS = 24  # a region of the start frame's matte smaller than this is a speck, not an object
DRAWN_LEVELS = 24  # a start picture's pixel further than this from its background (of 255, in any channel) is drawn
CROP_BELOW_SHARE = 0.75  # a start picture whose drawing spans less of its side than this is scaled up to it
OBJECT_SHARE = 0.85  # the share of the cropped picture's side its drawing spans, as our image models' emoji do


@dataclass(frozen=True)
class VideoSettings:
    """What to make; every limit is checked here, whatever the caller (UI, HTTP API, CLI)."""

    prompt: str = ""  # makes the start frame when no image is given; its words may name the motion
    motion: str = AUTO_MOTION  # one of MOTIONS, or "auto"
    num_frames: int = 24  # the start frame included
    fps: int = 12
    seed: int = 0  # the start frame's seed (the LSTM itself is deterministic)
    image_backend: str = "diffusion"  # which image model makes the start frame from the prompt

    def __post_init__(self) -> None:
        check = object.__setattr__
        check(self, "prompt", check_text("prompt", self.prompt, config.MAX_PROMPT_CHARS, required=False))
        check(self, "motion", check_choice("motion", self.motion, (AUTO_MOTION, *MOTIONS)))
        check(self, "num_frames", check_int("num_frames", self.num_frames, config.MIN_FRAMES, config.MAX_FRAMES))
        check(self, "fps", check_int("fps", self.fps, config.MIN_FPS, config.MAX_FPS))
        check(self, "seed", check_int("seed", self.seed, 0, config.MAX_SEED))
        check(self, "image_backend", check_choice("image_backend", self.image_backend, START_BACKENDS))

    def chosen_motions(self) -> list[str]:
        """One motion per object, left to right: the one asked for; for "auto" the motions the prompt's parts
        name ("an apple sliding left and a heart bouncing"), else its one motion word, else DEFAULT_MOTION."""
        if self.motion != AUTO_MOTION:
            return [self.motion]
        motions = find_motions(self.prompt)[0]
        return motions if len(motions) > 1 else [find_motion(self.prompt)[0] or DEFAULT_MOTION]

    def picture_prompt(self) -> str:
        """What the image model is asked to draw for the start frame: the prompt without its motion words."""
        motions, rest = find_motions(self.prompt)
        return rest if len(motions) > 1 else find_motion(self.prompt)[1]


@dataclass
class GeneratedVideo:
    frames: list[Image.Image]  # VIDEO_SIZE square, the start frame first
    gates: list[GateMaps]  # one per made frame (the start frame has none)
    settings: dict  # what remakes the video, as stored in its files


def load_video_model() -> Sequencer:
    """Our shipped video model, loaded once."""
    return registry.load(("video", str(config.VIDEO_MODEL_DIR)), lambda: load_sequencer(config.VIDEO_MODEL_DIR))


def edge_colour(picture: Image.Image) -> tuple[int, int, int, int]:
    """The median RGBA colour of an RGBA picture's outermost pixels: its background, where it has a plain one.

    Only those pixels are read: an upload may have 16 million."""
    width, height = picture.size
    strips = [(0, 0, width, 1), (0, height - 1, width, height), (0, 0, 1, height), (width - 1, 0, width, height)]
    edge = np.concatenate([np.asarray(picture.crop(box)).reshape(-1, 4) for box in strips])
    return tuple(int(v) for v in np.median(edge, axis=0))


def over_grey(colour: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """An RGBA colour as it shows over the image models' light grey, where a start frame's transparent parts show."""
    alpha = colour[3] / 255
    return tuple(round(c * alpha + g * (1 - alpha)) for c, g in zip(colour[:3], BACKGROUND, strict=True))


def drawing_square(picture: Image.Image) -> Image.Image:
    """An RGBA picture cropped to a square centred on what it draws (pixels away from its background: the colour of
    its edge, or the light grey where the edge is transparent): the drawing spans OBJECT_SHARE of the square's side
    when it spans less than CROP_BELOW_SHARE of the picture, else the square is as wide as the picture's shorter
    side; a picture that draws nothing is returned as it is. An image model may draw its objects anywhere in its
    picture, on the light grey or on a coloured background; the video model moves a sprite that they fill, about the
    sprite's middle. Beyond the picture's edges the square takes the edge's colour."""
    edge = edge_colour(picture)
    channels = ImageChops.difference(picture.convert("RGB"), Image.new("RGB", picture.size, over_grey(edge))).split()
    away = ImageChops.lighter(ImageChops.lighter(channels[0], channels[1]), channels[2])
    drawn = ImageChops.multiply(away.point(lambda level: 255 if level > DRAWN_LEVELS else 0),
                                picture.getchannel("A").point(lambda alpha: 255 if alpha >= OPAQUE_ALPHA else 0))
    box = drawn.getbbox()  # computed in PIL on bytes: an upload may have 16 million pixels
    if box is None:
        return picture
    left, top, right, bottom = box
    span = max(right - left, bottom - top)
    side = math.ceil(span / OBJECT_SHARE) if span < CROP_BELOW_SHARE * min(picture.size) else min(picture.size)
    left, top = round((left + right - side) / 2), round((top + bottom - side) / 2)
    square = Image.new("RGBA", (side, side), edge)
    square.alpha_composite(picture.crop((left, top, left + side, top + side)))
    return square


def start_frame(picture: Image.Image) -> Image.Image:
    """A picture as the start frame: a square of it centred on its drawing, half the frame's side, in the middle.

    The picture is the sprite that moves, at the size the model learned sprites at, with room to move; it is first
    cropped to a square centred on its drawing, scaled up to a small one (drawing_square). Transparent parts show
    the image models' light grey; the rest of the frame takes the colour of the picture's edge, so that a picture on
    a plain background has no visible border.
    """
    rgba = drawing_square(picture.convert("RGBA"))
    side = config.VIDEO_SIZE // 2
    sprite = Image.new("RGBA", (side, side), BACKGROUND + (255,))
    sprite.alpha_composite(ImageOps.fit(rgba, (side, side), Image.Resampling.LANCZOS))
    frame = Image.new("RGB", (config.VIDEO_SIZE,) * 2, over_grey(edge_colour(rgba)))
    frame.paste(sprite.convert("RGB"), ((config.VIDEO_SIZE - side) // 2,) * 2)
    return frame


def scene_frame(picture: Image.Image) -> Image.Image:
    """A picture of several objects as the start frame: its centre square fills the frame, objects where they are."""
    frame = Image.new("RGBA", (config.VIDEO_SIZE,) * 2, BACKGROUND + (255,))
    frame.alpha_composite(ImageOps.fit(picture.convert("RGBA"), frame.size, Image.Resampling.LANCZOS))
    return frame.convert("RGB")


def frame_tensor(picture: Image.Image) -> torch.Tensor:
    """A picture as a 3 x H x W tensor in [0, 1], the model's frame format."""
    return torch.frombuffer(bytearray(picture.tobytes()), dtype=torch.uint8).reshape(
        picture.height, picture.width, 3).permute(2, 0, 1).float() / 255


def _picture(frame: torch.Tensor) -> Image.Image:
    return Image.fromarray(frame.clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy())


def object_layers(model: Sequencer, first: torch.Tensor) -> Layers | None:
    """The start frame (1 x 3 x S x S) as one layer per object, left to right, each taken apart on its own;
    None when its matte holds fewer than two objects of MIN_OBJECT_PIXELS.

    Each object alone over the background is a start frame like those the model learned from.
    """
    whole = model.separate(first)
    regions = objects(whole.sprite[:, 3:], MIN_OBJECT_PIXELS)
    if len(regions) < 2:
        return None
    alone = Layers(whole.sprite * torch.cat(regions), whole.background.expand(len(regions), -1, -1, -1), whole.pivot)
    return model.separate(draw(alone, torch.zeros(len(regions), 4)))


def compose(layers: Layers, pose: torch.Tensor) -> torch.Tensor:
    """Every object at its pose over the background, the leftmost first (at the back): 1 x 3 x S x S."""
    placed = place(layers, pose)
    frame = layers.background[:1]
    for sprite in placed.split(1):
        frame = sprite[:, :3] + frame * (1 - sprite[:, 3:])
    return frame.clamp(0, 1)


@torch.no_grad()
def generate_video(settings: VideoSettings, start: Image.Image | None = None,
                   on_frame: Callable[[int, int], None] | None = None) -> GeneratedVideo:
    """The video for the settings, from the start picture or, without one, from a picture of the prompt.

    With a motion per object and a picture of several objects, the picture is a scene (scene_frame) and
    each object follows its motion, left to right (the last motion for any further objects), with its own
    LSTM memory; otherwise the picture is one sprite (start_frame) following the first motion.
    on_frame(done, total) reports progress, one call per frame made.
    """
    if start is None and not settings.prompt.strip():
        raise ValueError("give a start for the video: a prompt or an image (both are empty)")
    motions = settings.chosen_motions()
    source = "prompt" if start is None else "image"
    if start is None:
        prompt = settings.picture_prompt()
        picture_settings = ImageSettings(prompt, backend=settings.image_backend, seed=settings.seed, num_images=1)
        start = generate_batch(picture_settings, [prompt], [settings.seed])[0]
    model = load_video_model()
    layers = None
    if len(motions) > 1:
        first = scene_frame(start)
        layers = object_layers(model, frame_tensor(first)[None])
    if layers is None:
        first = start_frame(start)
        layers = model.separate(frame_tensor(first)[None])
    followed = [motions[min(k, len(motions) - 1)] for k in range(len(layers.pivot))]
    alone = draw(layers, torch.zeros(len(followed), 4))
    frames, gates = [first], []
    total = settings.num_frames - 1
    for step in rollout(model, alone, torch.tensor([MOTIONS.index(m) for m in followed]), total, layers):
        frames.append(_picture(compose(layers, step.pose)[0]))
        gates.append(gate_maps(step))
        if on_frame:
            on_frame(len(gates), total)
    used = {**asdict(settings), "motion": followed[0] if len(followed) == 1 else followed, "model": MODEL_NAME,
            "start": source}
    if source == "prompt":
        used["picture_prompt"] = settings.picture_prompt()
    return GeneratedVideo(frames, gates, used)
