"""The image benchmark: GenEval's tasks in our world, judged detail by detail by the independent judge.

    python -m playground.training.evaluate [--backends real,diffusion,gan] [--model FOLDER] [--gan FOLDER] [--prompts 20]
        [--steps 20 --guidance 5] [--no-layout] [--json FILE]

Template prompts per task, 4 pictures each (seeds 0-3), default settings unless --steps or --guidance say otherwise;
the diffusion model draws a prompt of several objects in the layout the app plans for it (playground.image.planner),
or alone with --no-layout.
Where a task asks for a combination, its prompts are drawn from the combinations held out of training
(playground.training.scenes.is_heldout), so a model cannot pass by having seen them:
- GenEval's six: single object ("a cat"), two objects ("a cat and a key"), counting ("three apples"), colours
  ("a blue banana"), position ("a cat above a key") and colour attribution ("a blue cat and a red key");
- and ours: position in the frame ("a cat in the top left corner"), size ("a big cat"), background ("a cat on a
  green background") and style ("a cat in flat style").
A picture passes when the judge finds every detail of its prompt honoured (GenEval's rule); a task's score is the
share of its pictures that pass, and "overall" is the mean of GenEval's six task scores, comparable in spirit
(not in difficulty) with GenEval's tables. The row "real" draws each prompt with the scene code (4 placements
per prompt): the judge must pass real pictures (>= 0.95), or it is the judge that is wrong.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch

from playground.image import ImageSettings, gan, generate_batch
from playground.image.gan import Generator, load_generator
from playground.image.judge import check, load_default_judge, look, world_picture
from playground.image.pictures import pictures_tensor
from playground.image.world import (
    AREA_PHRASES,
    AREAS,
    COUNTS,
    OBJECT_COLOURS,
    OBJECTS,
    STYLE_WORDS,
    article,
    plural,
    read_prompt,
)
from playground.training.emoji_styles import TRAINING_STYLES
from playground.training.scenes import WorldSprites, is_heldout, load_world_sprites, place, render

PICTURES_PER_PROMPT = 4
REAL_SCENES_GOAL = 0.95  # real pictures of the prompts must pass this often, or the judge is wrong
GENEVAL_TASKS = ("single object", "two objects", "counting", "colours", "position", "colour attribution")
TASKS = GENEVAL_TASKS + ("place in frame", "size", "background", "style")
COUNT_WORDS = {n: w for w, n in COUNTS.items() if w.isalpha()}


def _heldout_pairs(rng: random.Random) -> list[tuple[str, str]]:
    names = sorted(OBJECTS)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:] if is_heldout(a, b)]
    rng.shuffle(pairs)
    return [(a, b) if rng.random() < 0.5 else (b, a) for a, b in pairs]


def task_prompts(world: WorldSprites, count: int, seed: int = 0) -> dict[str, list[str]]:
    """`count` prompts per task (see the module docstring), the same for every backend. A background is never the
    main colour of its object (in Noto's drawing), which would hide it."""
    rng = random.Random(seed)
    names = sorted(OBJECTS)
    pairs = _heldout_pairs(rng)
    counted = [(n, c) for n in names for c in (2, 3, 4) if is_heldout(n, c)]
    coloured = [(n, c, a) for n in names for c in OBJECT_COLOURS for a in AREAS if is_heldout(n, c, a)]
    rng.shuffle(counted)
    rng.shuffle(coloured)

    def a(words: str) -> str:
        return f"{article(words)} {words}"

    relations = ["to the left of", "to the right of", "above", "below"]
    prompts = {
        "single object": [a(n) for n in rng.sample(names, count)],
        "two objects": [f"{a(x)} and {a(y)}" for x, y in pairs[:count]],
        "counting": [f"{COUNT_WORDS[c]} {plural(n)}" for n, c in counted[:count]],
        "colours": [a(f"{c} {n}") for n, c, _ in coloured[:count]],
        "position": [f"{a(x)} {rng.choice(relations)} {a(y)}" for x, y in pairs[count: 2 * count]],
        "colour attribution": [f"{a(rng.choice(OBJECT_COLOURS) + ' ' + x)} and {a(rng.choice(OBJECT_COLOURS) + ' ' + y)}"
                               for x, y in pairs[2 * count: 3 * count]],
        "place in frame": [f"{a(n)} {AREA_PHRASES[area][0]}" for n, _, area in coloured[count: 2 * count]],
        "size": [a(f"{rng.choice(['small', 'big'])} {n}") for n in rng.sample(names, count)],
        "background": [f"{a(n)} on {a(background)} background" for n in rng.sample(names, count)
                       for background in [rng.choice([c for c in OBJECT_COLOURS if c not in world.colours[(n, "noto")][:1]])]],
        "style": [f"{a(n)} in {STYLE_WORDS[rng.choice(TRAINING_STYLES)]} style" for n in rng.sample(names, count)],
    }
    return prompts


def real_pictures(world: WorldSprites, prompts: list[str], seed: int = 0) -> torch.Tensor:
    """Each prompt drawn PICTURES_PER_PROMPT times by the scene code, in a random training style when none is asked."""
    rng = random.Random(seed)
    pictures = []
    for prompt in prompts:
        for _ in range(PICTURES_PER_PROMPT):
            scene = place(read_prompt(prompt), world, rng)
            if scene is None:
                raise ValueError(f"the scene code cannot place {prompt!r}")
            pictures.append(render(scene, world))
    return torch.stack(pictures)


def generated_pictures(settings: ImageSettings, prompts: list[str], generator: Generator | None = None,
                       plan_layout: bool = True) -> torch.Tensor:
    """PICTURES_PER_PROMPT pictures per prompt (seeds 0-3) with the settings' backend, model, steps and guidance, or
    by the GAN generator given, at the judge's size; plan_layout=False: our diffusion model without the layout the
    app plans for a prompt of several objects."""
    repeated = [p for p in prompts for _ in range(PICTURES_PER_PROMPT)]
    seeds = list(range(PICTURES_PER_PROMPT)) * len(prompts)
    if generator is not None:
        pictures = gan.generate_pictures(repeated, seeds, generator)
    else:
        pictures = generate_batch(settings, repeated, seeds, plan_layout)
    return pictures_tensor([world_picture(p) for p in pictures])  # a 32 px model's judged at 64 px, each pixel doubled


def score(prompts: dict[str, list[str]], pictures: dict[str, torch.Tensor]) -> dict[str, float]:
    """Per task, the share of pictures whose every detail the judge finds honoured; and the overall scores (the mean
    of GenEval's six when those six were asked, and of all ten tasks when all ten were)."""
    judge = load_default_judge()
    scores = {}
    for task, texts in prompts.items():
        seen = look(judge, pictures[task])
        requests = [read_prompt(p) for p in texts for _ in range(PICTURES_PER_PROMPT)]
        scores[task] = sum(check(r, s).all_honoured for r, s in zip(requests, seen, strict=True)) / len(seen)
    if all(t in scores for t in GENEVAL_TASKS):
        scores["overall"] = sum(scores[t] for t in GENEVAL_TASKS) / len(GENEVAL_TASKS)
    if all(t in scores for t in TASKS):
        scores["overall, all ten tasks"] = sum(scores[t] for t in TASKS) / len(TASKS)
    return scores


def table(results: dict[str, dict[str, float]]) -> str:
    """The scores as a Markdown table, a column per backend."""
    rows = [f"| task | {' | '.join(results)} |", "|---" * (len(results) + 1) + "|"]
    for task in [*TASKS, "overall", "overall, all ten tasks"]:
        rows.append(f"| {task} | " + " | ".join(f"{r[task]:.2f}" for r in results.values()) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.training.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="real,diffusion,gan", help="comma-separated: real, diffusion, gan")
    parser.add_argument("--model", default="", help="the diffusion model (a pipeline folder; default: ours)")
    parser.add_argument("--gan", type=Path, help="the GAN (a generator folder, as the GAN trainer leaves; default: ours)")
    parser.add_argument("--prompts", type=int, default=20, help="prompts per task")
    parser.add_argument("--steps", type=int, default=ImageSettings.num_inference_steps, help="diffusion steps")
    parser.add_argument("--guidance", type=float, default=ImageSettings.guidance_scale, help="diffusion guidance scale")
    parser.add_argument("--no-layout", action="store_true",
                        help="diffusion: draw a prompt of several objects without the app's layout (the model alone)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    world = load_world_sprites(TRAINING_STYLES)
    prompts = task_prompts(world, args.prompts)
    results, seconds = {}, {}
    for backend in args.backends.split(","):
        start = time.perf_counter()
        if backend == "real":
            pictures = {task: real_pictures(world, p) for task, p in prompts.items()}
        else:
            settings = ImageSettings(backend=backend, model=args.model, num_inference_steps=args.steps,
                                     guidance_scale=args.guidance) if backend == "diffusion" else ImageSettings(backend=backend)
            generator = load_generator(args.gan) if backend == "gan" and args.gan else None
            pictures = {task: generated_pictures(settings, p, generator, not args.no_layout) for task, p in prompts.items()}
        results[backend] = score(prompts, pictures)
        seconds[backend] = time.perf_counter() - start
    print(table(results))
    if "real" in results:
        real = results["real"]["overall, all ten tasks"]
        print(f"real scenes: {real:.2f} over all ten tasks ({'meets' if real >= REAL_SCENES_GOAL else 'misses'} the "
              f"judge's check, >= {REAL_SCENES_GOAL})")
    print("seconds: " + ", ".join(f"{b} {s:.0f}" for b, s in seconds.items()))
    if args.json:
        args.json.write_text(json.dumps({"prompts": prompts, "scores": results, "seconds": seconds}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
