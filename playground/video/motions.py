"""The motions a video can follow, and where each one puts the sprite in every frame.

A motion is a rule for a sprite's pose over time: its centre, angle and size in frame t, starting
from its pose in frame 0. Training clips are drawn with these rules (playground.training.clips), and
the Video tab asks the LSTM for the same motions by name. Positions are in the frame's normalised
coordinates: x and y run from -1 (left, top) to 1 (right, bottom), so the rules do not depend on the
frame size. Every motion is deterministic: from one start frame and a motion there is one right
next frame, which is what lets the model (and the user) predict it.
"""

import math
import re

import torch

MOTIONS = ("bounce", "slide_left", "slide_right", "slide_up", "slide_down", "spin", "zoom_in", "zoom_out", "shake")

SLIDE_SPEED = 3 / 64  # per frame: 1.5 pixels of a 64-pixel frame
SLIDE_DIRECTIONS = {"slide_left": (-1, 0), "slide_right": (1, 0), "slide_up": (0, -1), "slide_down": (0, 1)}
BOUNCE_PERIOD = 20  # frames from the top of a bounce to the next top; the sprite starts at the top
SPIN_DEGREES = 15  # per frame, clockwise
ZOOM_RATE = 1.04  # size factor per frame (zoom_out divides by it)
SHAKE_AMPLITUDE = 5 / 64  # 2.5 pixels of a 64-pixel frame, left and right
SHAKE_PERIOD = 6  # frames per shake (not a divisor of the measured horizons, which copying would then get right)

# Words in a prompt that name a motion ("a bouncing ball" -> bounce), checked in this order.
MOTION_WORDS = (
    ("bounce", r"\bbounc\w*"),
    ("spin", r"\b(spin\w*|rotat\w*|turn\w*|twirl\w*)"),
    ("zoom_in", r"\b(zoom\w* in|grow\w*|approach\w*|com\w* closer)"),
    ("zoom_out", r"\b(zoom\w* out|shrink\w*|recede\w*|mov\w* away)"),
    ("shake", r"\b(shak\w*|shiver\w*|trembl\w*|vibrat\w*|wobbl\w*)"),
    ("slide_left", r"\b(left|westward)\b"),
    ("slide_right", r"\b(right|eastward)\b"),
    ("slide_up", r"\b(up|upward\w*|ris\w*|fly\w* up|float\w*)\b"),
    ("slide_down", r"\b(down|downward\w*|fall\w*|sink\w*|drop\w*)\b"),
)


def find_motion(prompt: str) -> tuple[str | None, str]:
    """The motion a prompt's words name, or None, and the prompt without those words.

    "a bouncing red apple" -> ("bounce", "a red apple"): the image models learned captions that
    describe still pictures, so the start frame is drawn from what is left.
    """
    for motion, pattern in MOTION_WORDS:
        match = re.search(pattern, prompt, flags=re.IGNORECASE)
        if match:
            rest = prompt[: match.start()] + prompt[match.end() :]
            return motion, " ".join(rest.split()).strip(" ,")
    return None, prompt


def find_motions(prompt: str) -> tuple[list[str], str]:
    """The motion named in each part of a prompt, in order, and the prompt without those words.

    "an apple sliding left and a heart bouncing" -> (["slide_left", "bounce"], "an apple sliding and a heart"):
    parts are split at "and", commas and semicolons; each part names at most one motion (its first).
    """
    motions, kept = [], []
    for part in re.split(r"(\s*(?:,|;|\band\b)\s*)", prompt):
        motion, rest = (None, part) if re.fullmatch(r"\s*(?:,|;|\band\b)\s*", part) else find_motion(part)
        if motion:
            motions.append(motion)
        kept.append(f" {rest} ")
    return motions, re.sub(r"\s+([,;])", r"\1", " ".join("".join(kept).split())).strip(" ,;")


def floor_height(half: torch.Tensor) -> torch.Tensor:
    """The centre's height (frame units, y down) at which a sprite of that half side touches the bottom edge: where a
    bounce turns."""
    return 1 - half


def poses(motion: str, centre: torch.Tensor, half: torch.Tensor, num_frames: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Centres (B x T x 2), angles in radians (B x T) and half-sizes (B x T) of B sprites over T frames.

    centre (B x 2) and half (B) are the sprites' poses in frame 0, half being half the sprite's side.
    """
    t = torch.arange(num_frames, dtype=torch.float32)
    batch = len(centre)
    centres = centre[:, None, :].repeat(1, num_frames, 1)
    angles = torch.zeros(batch, num_frames)
    halves = half[:, None].repeat(1, num_frames)
    if motion in SLIDE_DIRECTIONS:
        direction = torch.tensor(SLIDE_DIRECTIONS[motion], dtype=torch.float32)
        centres = centres + SLIDE_SPEED * t[None, :, None] * direction
    elif motion == "bounce":
        drop = (floor_height(half) - centre[:, 1]).clamp(min=0)
        phase = (t / BOUNCE_PERIOD) % 1
        fall = torch.where(phase < 0.5, (2 * phase) ** 2, (2 * (1 - phase)) ** 2)  # parabolic, like a thrown ball
        centres[:, :, 1] = centre[:, None, 1] + drop[:, None] * fall
    elif motion == "spin":
        angles = angles + math.radians(SPIN_DEGREES) * t
    elif motion in ("zoom_in", "zoom_out"):
        rate = ZOOM_RATE if motion == "zoom_in" else 1 / ZOOM_RATE
        halves = halves * rate ** t
    elif motion == "shake":
        centres[:, :, 0] = centres[:, :, 0] + SHAKE_AMPLITUDE * torch.sin(2 * math.pi * t / SHAKE_PERIOD)
    else:
        raise ValueError(f"motion must be one of {', '.join(MOTIONS)}, got {motion!r}")
    return centres, angles, halves
