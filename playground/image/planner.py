"""A layout for a prompt of several objects: where each goes, and the words the model draws it with.

A diffusion model that reads the whole prompt at once binds words to places poorly: asked for "a blue heart and a
red star" it mixes the colours, and asked for "a cat above a key" it puts them anywhere (GenEval's finding for every
model it measured, and our model's: position 0.24, colour attribution 0.10 on the benchmark). LLM-grounded diffusion
(Lian et al., 2023) splits the work: a planner reads the prompt into boxes, one per object, then the model draws each
object in its box with its own words. Here the planner is the world's reader (world.read_prompt) and a few rules: a
relation gives the two objects opposite sides ("above": top and bottom), a stated place is kept, and the other
objects are spread over the frame. Each object's region is the part of the frame nearer its place than any other's,
so the regions tile the picture; each region's prompt says its object, its colour, size and place, and the picture's
background and style. The pipeline (diffusion.TextToImagePipeline) predicts every region with its own prompt and
keeps each prediction inside its region.
"""

from dataclasses import dataclass

import torch

from playground.image.world import (
    AREA_PHRASES,
    AREAS,
    COUNTS,
    SIZE,
    STYLE_WORDS,
    Asked,
    Request,
    article,
    plural,
    read_prompt,
)

# Places that spread n objects over the frame, for the objects a prompt gives no place.
SPREAD = {2: ("left", "right"), 3: ("top left", "top right", "bottom"),
          4: ("top left", "top right", "bottom left", "bottom right")}
SPREAD_ORDER = ("top left", "top right", "bottom left", "bottom right", "centre", "top", "bottom", "left", "right")
MAX_REGIONS = 4  # the world's scenes hold one to four objects: a prompt of more is beyond what the model learned
CROWDED = 3  # regions from which an object of no stated size is asked small, so neighbours stay apart
# Where a relation puts its first and its second object.
RELATION_AREAS = {"left of": ("left", "right"), "right of": ("right", "left"), "above": ("top", "bottom"),
                  "below": ("bottom", "top"), "next to": ("left", "right")}


@dataclass(frozen=True)
class Region:
    """One object of a layout (or several, where the prompt asks for them at one place): its words and its place."""

    prompt: str  # what the model draws in this region: "a small blue heart on the left, on a yellow background"
    area: str  # one of world.AREAS: the region is the part of the frame nearer this area's centre than any other's


def _phrase(asked: Asked, count: int, area: str, request: Request, crowded: bool) -> str:
    noun = plural(asked.name) if count > 1 else asked.name
    size = asked.size or ("small" if crowded else None)
    words = " ".join(w for w in (size, asked.colour, noun) if w)
    number = next(w for w, n in COUNTS.items() if n == count and w.isalpha()) if count > 1 else article(words)
    text = f"{number} {words} {AREA_PHRASES[area][0]}"
    if len(request.background) == 1:
        text += f", on {article(request.background[0])} {request.background[0]} background"
    elif request.background:
        text += f", on a gradient from {request.background[0]} to {request.background[1]}"
    if request.style:
        text += f", in {STYLE_WORDS[request.style]} style"
    return text


def plan(prompt: str) -> list[Region]:
    """The regions of the prompt's objects; [] when it asks for fewer than two, which the model draws alone, for more
    than MAX_REGIONS, or for two at the same place, which the model also draws alone."""
    request = read_prompt(prompt)
    areas: list[str | None] = [t.area for t in request.things]
    if request.relation:
        first, relation, second = request.relation
        if areas[first] is None and areas[second] is None:
            areas[first], areas[second] = RELATION_AREAS[relation]
    # (thing, how many in the region, area): a stated place keeps its count together, the others get one each
    placed = [(t, t.count, a) for t, a in zip(request.things, areas, strict=True) if a]
    loose = [t for t, a in zip(request.things, areas, strict=True) if not a for _ in range(t.count)]
    taken = [a for _, _, a in placed]
    if not 2 <= len(placed) + len(loose) <= MAX_REGIONS or len(set(taken)) < len(taken):
        return []
    free = [a for a in (*SPREAD[len(placed) + len(loose)], *SPREAD_ORDER) if a not in taken]
    placed += [(t, 1, a) for t, a in zip(loose, dict.fromkeys(free), strict=False)]
    crowded = len(placed) >= CROWDED
    return [Region(_phrase(t, n, a, request, crowded), a) for t, n, a in placed]


def area_centre(area: str) -> tuple[float, float]:
    """The centre of an area (world.AREAS: the frame cut into thirds) in pixels, x and y."""
    index = AREAS.index(area)
    return (index % 3 + 0.5) * SIZE / 3, (index // 3 + 0.5) * SIZE / 3


def region_masks(regions: list[Region], side: int) -> torch.Tensor:
    """len(regions) x side x side masks at a grid of side x side cells over the frame: each cell is 1 in the region
    whose area centre is nearest (the first on a tie), so the masks tile the frame."""
    centres = torch.tensor([area_centre(r.area) for r in regions])  # R x 2
    cells = (torch.arange(side) + 0.5) * SIZE / side
    y, x = torch.meshgrid(cells, cells, indexing="ij")
    distance = (x[None] - centres[:, 0, None, None]) ** 2 + (y[None] - centres[:, 1, None, None]) ** 2
    return torch.nn.functional.one_hot(distance.argmin(0), len(regions)).permute(2, 0, 1).float()
