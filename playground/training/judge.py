"""Train the judge (playground.image.judge) on real renderings of the world only, and measure it.

    python -m playground.training.judge --out DIR [--steps 4000 --batch-size 48 --threads 1]
    python -m playground.training.judge --out DIR --measure [--scenes 600]   (the model card's figures)

Every batch is fresh scenes from playground.training.scenes (training split: no held-out combination), in the
training styles. A few scenes also get shapes that are no object (angular polygons and brush strokes in random
colours): the detector learns that a coloured patch is not by itself one of our objects, and the heat map stays
cold there; others are drawn with a dark outline around each object, a habit of styles it never sees. Pictures are blurred and noised a little at random, since the pictures it will judge are not as crisp
as the sprites. Losses, CenterNet's: a focal loss on the centre heat map (Gaussian peaks at the objects' centres),
L1 on the offset in the cell and the box size, cross-entropy on the name and the style at and around each centre.

--measure reports, on scenes the judge never trained on: held-out combinations in the training styles, and the
same kind of scenes in OpenMoji's two styles, which no model here ever trains on (see emoji_styles): how often each
object is found and named, counts, areas, colours of recoloured objects, backgrounds and styles; and a disc in
each object's main colour asked to be that object, which must fail.
"""

import json
import math
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from playground.image.judge import STRIDE, Judge, JudgeConfig, check, load_judge, look, save_judge
from playground.image.world import COLOUR_RGB, OBJECTS, SIZE, Asked, Request, area_of
from playground.precision import autocast
from playground.training import loop
from playground.training.emoji_styles import STYLES, TRAINING_STYLES
from playground.training.scenes import Scene, WorldSprites, load_world_sprites, render, sample_scene

EMA_DECAY = 0.999
NON_OBJECT_SHARE = 0.3  # scenes that get one or two shapes that are no object
OUTLINED_SHARE = 0.3  # scenes drawn with a dark outline around every sprite
OUTLINE_PIXELS = 2  # in the sprites' own 64 px
MAX_BLUR = 1.2  # Gaussian sigma in pixels
MAX_NOISE = 0.04
CELLS = SIZE // STRIDE
FOCAL_ALPHA, FOCAL_BETA = 2, 4


def non_object(canvas: torch.Tensor, box: tuple[int, int, int, int], rng: random.Random) -> None:
    """Paint an angular polygon or a brush stroke in a random colour inside box (in place)."""
    x0, y0, x1, y1 = box
    mask = Image.new("L", (SIZE, SIZE), 0)
    draw = ImageDraw.Draw(mask)
    points = [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(rng.randint(3, 5))]
    if rng.random() < 0.5:
        draw.polygon(points, fill=255)
    else:
        draw.line(points, fill=255, width=rng.randint(2, 5))
    alpha = torch.from_numpy(np.asarray(mask, dtype=np.float32) / 255)[None]
    colour = torch.tensor([rng.random() for _ in range(3)])[:, None, None]
    canvas.mul_(1 - alpha).add_(colour * alpha)


def outlined(world: WorldSprites) -> WorldSprites:
    """The world's sprites with a dark outline around each: a drawing habit of styles no model trains on (OpenMoji),
    so that the judge learns shapes rather than one style's edges."""
    sprites = {}
    for key, sprite in world.sprites.items():
        padded = F.pad(sprite, [OUTLINE_PIXELS] * 4)
        ring = (F.max_pool2d(padded[3:], 2 * OUTLINE_PIXELS + 1, 1, OUTLINE_PIXELS) - padded[3:]).clamp(0, 1)
        sprites[key] = torch.cat([padded[:3], padded[3:] + ring])  # premultiplied: the ring adds alpha, not colour
    return WorldSprites(sprites, world.colours, world.styles)


def free_box(scene: Scene, rng: random.Random) -> tuple[int, int, int, int] | None:
    """A random square of 10 to 24 pixels that overlaps no object of the scene, or None."""
    for _ in range(50):
        side = rng.randint(10, 24)
        x0, y0 = rng.randint(0, SIZE - side), rng.randint(0, SIZE - side)
        if all(x0 + side <= t.box[0] or t.box[2] <= x0 or y0 + side <= t.box[1] or t.box[3] <= y0 for t in scene.things):
            return x0, y0, x0 + side, y0 + side
    return None


def picture(scene: Scene, worlds: tuple[WorldSprites, WorldSprites], rng: random.Random) -> torch.Tensor:
    """The scene rendered (from the outlined sprites, the second world, on some), with non-objects on some,
    blurred and noised a little."""
    canvas = render(scene, worlds[rng.random() < OUTLINED_SHARE])
    if rng.random() < NON_OBJECT_SHARE:
        for _ in range(rng.randint(1, 2)):
            box = free_box(scene, rng)
            if box:
                non_object(canvas, box, rng)
    sigma = rng.uniform(0, MAX_BLUR)
    if sigma > 0.3:
        radius = math.ceil(2 * sigma)
        kernel = torch.exp(-torch.arange(-radius, radius + 1.0) ** 2 / (2 * sigma ** 2))
        kernel = (kernel / kernel.sum()).repeat(3, 1, 1, 1)
        padded = F.pad(canvas[None], (radius, radius, 0, 0), mode="replicate")
        canvas = F.conv2d(padded, kernel.view(3, 1, 1, -1), groups=3)
        canvas = F.conv2d(F.pad(canvas, (0, 0, radius, radius), mode="replicate"), kernel.view(3, 1, -1, 1), groups=3)[0]
    return (canvas + torch.randn(canvas.shape) * rng.uniform(0, MAX_NOISE)).clamp(0, 1)


def targets(scenes: list[Scene], config: JudgeConfig) -> dict[str, torch.Tensor]:
    """What the judge's maps should show for each scene: Gaussian peaks, offsets, sizes and names at the centres."""
    batch = len(scenes)
    heat = torch.zeros(batch, CELLS, CELLS)
    offset = torch.zeros(batch, 2, CELLS, CELLS)
    size = torch.zeros(batch, 2, CELLS, CELLS)
    names = torch.full((batch, CELLS, CELLS), -100, dtype=torch.long)  # -100: no name to learn here
    styles = torch.full((batch, CELLS, CELLS), -100, dtype=torch.long)
    centres = torch.zeros(batch, CELLS, CELLS, dtype=torch.bool)
    grid = torch.arange(CELLS, dtype=torch.float32) + 0.5
    for index, scene in enumerate(scenes):
        for thing in scene.things:
            cx, cy = thing.centre[0] / STRIDE, thing.centre[1] / STRIDE
            width, height = thing.box[2] - thing.box[0], thing.box[3] - thing.box[1]
            sigma = max(0.5, max(width, height) / STRIDE / 6)
            peak = torch.exp(-((grid[None, :] - cx) ** 2 + (grid[:, None] - cy) ** 2) / (2 * sigma ** 2))
            heat[index] = torch.maximum(heat[index], peak)
            x, y = min(CELLS - 1, int(cx)), min(CELLS - 1, int(cy))
            centres[index, y, x] = True
            offset[index, :, y, x] = torch.tensor([cx - x, cy - y])
            size[index, :, y, x] = torch.tensor([width / SIZE, height / SIZE])
            names[index, max(0, y - 1): y + 2, max(0, x - 1): x + 2] = config.objects.index(thing.name)
            styles[index, max(0, y - 1): y + 2, max(0, x - 1): x + 2] = config.styles.index(scene.style)
        heat[index][centres[index]] = 1.0
    return {"heat": heat, "offset": offset, "size": size, "names": names, "centres": centres, "styles": styles}


def losses(model: Judge, pictures: torch.Tensor, target: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {name: value.float() for name, value in model(pictures).items()}  # the losses in float32, also under autocast
    p = out["centre"].sigmoid().clamp(1e-4, 1 - 1e-4)
    positive = target["centres"]
    focal = torch.where(positive, (1 - p) ** FOCAL_ALPHA * torch.log(p),
                        (1 - target["heat"]) ** FOCAL_BETA * p ** FOCAL_ALPHA * torch.log(1 - p))
    count = positive.sum().clamp(min=1)
    mask = positive[:, None].float()
    return {
        "heat": -focal.sum() / count,
        "box": ((out["offset"] - target["offset"]).abs() * mask).sum() / count
        + ((out["size"] - target["size"]).abs() * mask).sum() / count * 4,
        "names": F.cross_entropy(out["names"], target["names"], ignore_index=-100),
        "style": F.cross_entropy(out["styles"], target["styles"], ignore_index=-100),
    }


# Measuring the judge


def disc(colour_rgb: tuple[int, ...], background: tuple[int, ...], centre: tuple[float, float], radius: float) -> torch.Tensor:
    """A plain disc on a plain background, 3 x SIZE x SIZE: the smudge a colour-only judge would take for an object."""
    image = Image.new("RGB", (SIZE, SIZE), background)
    ImageDraw.Draw(image).ellipse([centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius],
                                  fill=colour_rgb)
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)


def measure(model: Judge, world: WorldSprites, count: int, seed: int, styles_known: bool) -> dict[str, float]:
    """The judge's accuracy on `count` held-out scenes: per object found and named, per scene count, per object
    area, per recoloured object colour, per scene background and style (when the styles are ones it knows)."""
    rng = random.Random(seed)
    scenes = [sample_scene(rng, world, "heldout") for _ in range(count)]
    pictures = torch.stack([render(s, world) for s in scenes])
    seens = look(model, pictures)
    tallies: dict[str, list[bool]] = {k: [] for k in ("named", "count", "area", "colour", "background", "style")}
    for scene, seen in zip(scenes, seens, strict=True):
        used = set()
        for thing in scene.things:
            nearest = min(((abs(f.centre[0] - thing.centre[0]) + abs(f.centre[1] - thing.centre[1]), i)
                           for i, f in enumerate(seen.objects) if i not in used), default=(99, None))
            hit = nearest[1] is not None and nearest[0] <= 6
            found = seen.objects[nearest[1]] if hit else None
            if hit:
                used.add(nearest[1])
            tallies["named"].append(bool(found and found.name == thing.name))
            tallies["area"].append(bool(found and area_of(found.centre) == area_of(thing.centre)))
            if thing.colour:
                tallies["colour"].append(bool(found and thing.colour in found.colours))
        for name in {t.name for t in scene.things}:
            tallies["count"].append(sum(f.name == name for f in seen.objects) == sum(t.name == name for t in scene.things))
        tallies["background"].append(tuple(scene.background) == seen.background)
        if styles_known:
            tallies["style"].append(seen.style == scene.style)
    figures = {k: float(np.mean(v)) for k, v in tallies.items() if v}
    figures["extra objects per scene"] = float(np.mean([max(0, len(seen.objects) - len(scene.things))
                                                        for scene, seen in zip(scenes, seens, strict=True)]))
    return figures


def disc_failures(model: Judge, world: WorldSprites) -> float:
    """Share of world objects for which a disc of the object's own main colour, asked to be that object, fails."""
    failed = []
    for name in OBJECTS:
        word = world.colours[(name, world.styles[0])][0]
        picture = disc(COLOUR_RGB[word], (240, 240, 240), (32, 32), 14)
        verdict = check(Request((Asked(name),)), look(model, picture[None])[0])
        failed.append(not verdict.all_honoured)
    return float(np.mean(failed))


def main(argv: list[str] | None = None) -> int:
    parser = loop.parser("python -m playground.training.judge", __doc__.splitlines()[0])
    parser.set_defaults(steps=4000, batch_size=48, lr=2e-3, checkpoint_every=200)
    parser.add_argument("--schedule-steps", type=int, default=4000, help="the learning rate decays to 5 % over these")
    parser.add_argument("--measure", action="store_true", help="measure the exported judge in --out instead of training")
    parser.add_argument("--scenes", type=int, default=600, help="scenes per measured set")
    args = parser.parse_args(argv)
    generator = loop.seeded(args)
    if args.measure:
        model = load_judge(args.out)
        known = load_world_sprites(TRAINING_STYLES)
        unseen = load_world_sprites(tuple(s for s in STYLES if s not in TRAINING_STYLES))
        figures = {"held-out scenes, training styles": measure(model, known, args.scenes, 1, True),
                   "held-out scenes, OpenMoji styles (never trained on)": measure(model, unseen, args.scenes, 2, False),
                   "discs asked to be the object of their colour, failed": disc_failures(model, known)}
        print(json.dumps(figures, indent=1))
        return 0
    world = load_world_sprites(TRAINING_STYLES)
    worlds = (world, outlined(world))
    config = JudgeConfig(width=8 if args.tiny else JudgeConfig.width, styles=TRAINING_STYLES)
    model = Judge(config).to(args.device)
    ema = loop.EMA(model, EMA_DECAY)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: max(0.05, 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.schedule_steps)))))
    modules = {"model": model, "ema": ema.model}
    step = loop.load_checkpoint(args.out, modules, {"optimizer": optimizer}, generator)
    rng = random.Random(args.seed + step)
    schedule.last_epoch = step
    loop.announce("judge", model, f"{len(world.sprites)} sprites", step)
    progress = loop.Progress(every=50)
    started = time.perf_counter()
    while step < args.steps:
        scenes = [sample_scene(rng, world) for _ in range(args.batch_size)]
        pictures = torch.stack([picture(s, worlds, rng) for s in scenes]).to(args.device)
        with autocast(args.device):
            parts = losses(model, pictures, {k: v.to(args.device) for k, v in targets(scenes, config).items()})
        loss = sum(parts.values())
        loop.optimizer_step(optimizer, loss, model)
        schedule.step()
        step += 1
        ema.update(model, step)
        progress.log(step, **{name: value.item() for name, value in parts.items()})
        if step % args.checkpoint_every == 0 or step == args.steps:
            loop.save_checkpoint(args.out, step, modules, {"optimizer": optimizer}, generator,
                                 {"loss": loss.item(), "minutes": (time.perf_counter() - started) / 60})
            save_judge(ema.model, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
