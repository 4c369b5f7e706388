"""Compare speed on this machine: a 4-prompt × 4-seed image comparison end to end against the sum of its 16
single generations, measured in the same run, so that noise on a shared machine cancels out in the ratio.

The comparison is what the Compare tab does (compare_prompts: every (prompt, seed) pair in shared batches,
then the scores; the PNG of each picture; the sheet and the JSON). The baseline is what a user would do in
the Image tab: one generate_image call per (prompt, seed) with num_images=1, each saved as a PNG. The two
alternate, REPEATS times each, and the medians are compared. Goal: comparison ≤ 0.5 × singles.
On a 2-core machine busy with other work, pass --threads 1 (see bench_image.py).
Run: make bench    (or .venv/bin/python benchmarks/bench_compare.py --threads 1)
"""

import argparse
import statistics
import sys
from pathlib import Path

import diffusers
import torch
import transformers
from bench_image import machine, retry, timed

sys.path.insert(0, str(Path(__file__).parents[1]))
from playground import compare
from playground.image import generate_image, metadata

PROMPTS = ["a face", "a yellow face", "a smiling yellow face", "a smiling yellow face with heart-shaped eyes"]
SEEDS = 4
REPEATS = 3
GOAL = 0.5


def run_comparison(settings: compare.CompareSettings) -> None:
    comparison = compare.compare_prompts(PROMPTS, settings)
    compare.export(comparison, compare.save_pictures(comparison))


def run_singles(settings: compare.CompareSettings) -> None:
    for prompt in PROMPTS:
        for seed in settings.seeds:
            one = compare.CompareSettings(backend=settings.backend, seed=seed, num_seeds=1).image_settings(prompt)
            result = generate_image(one)
            metadata.save_png(result.images[0], result.settings[0])


def measure(backend: str) -> tuple[float, float]:
    """Median seconds of the comparison and of the 16 single generations, alternating."""
    settings = compare.CompareSettings(backend=backend, seed=0, num_seeds=SEEDS)
    retry(lambda: run_comparison(settings))  # warm-up: loads the models
    run_singles(settings)
    together, alone = [], []
    for _ in range(REPEATS):
        together.append(timed(lambda: run_comparison(settings))[0])
        alone.append(timed(lambda: run_singles(settings))[0])
    return statistics.median(together), statistics.median(alone)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--backends", default="diffusion,gan")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    defaults = compare.CompareSettings()
    print(machine())
    print(f"{len(PROMPTS)} prompts × {SEEDS} seeds; diffusion at the defaults ({defaults.scheduler}, "
          f"{defaults.num_inference_steps} steps, guidance {defaults.guidance_scale:g}); median of {REPEATS}")
    print(f"\n{'backend':12}{'comparison s':>14}{'16 singles s':>14}{'ratio':>8}")
    ratios = {}
    for backend in args.backends.split(","):
        together, alone = measure(backend)
        ratios[backend] = together / alone
        print(f"{backend:12}{together:14.2f}{alone:14.2f}{ratios[backend]:7.2f}x")
    for backend, ratio in ratios.items():
        print(f"Goal for {backend}: comparison <= {GOAL:g} x singles: {ratio:.2f}x  {'PASS' if ratio <= GOAL else 'FAIL'}")


if __name__ == "__main__":
    main()
