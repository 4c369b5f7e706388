"""What every image trainer shares: command-line options, an EMA copy of the weights, and resumable checkpoints.

A checkpoint is one folder (out/checkpoint): the model's and the EMA's weights as safetensors, the
optimizer state, the step and the random state. Training resumes from it when it exists, so a long
run can be stopped at any time and continued, e.g. on a different machine or with more threads.
"""

import argparse
import copy
import json
import random
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from playground.image.text_encoder import TextEncoding, encode
from playground.training.scenes import WorldSprites, captioned_batch

CHECKPOINT = "checkpoint"


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The options every trainer takes; trainers add their own."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--out", type=Path, required=True, help="where the checkpoint and the exported model go")
    p.add_argument("--steps", type=int, default=10_000, help="total optimizer steps (a resumed run continues to this)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--workers", type=int, default=0,
                   help="processes that draw the training scenes (0: the training process draws them)")
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tiny", action="store_true", help="a tiny model, for tests of the training code")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return p


def seeded(args: argparse.Namespace) -> torch.Generator:
    """Apply the thread and seed options; the random generator that draws batches."""
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    return torch.Generator().manual_seed(args.seed)


class _Scenes(torch.utils.data.IterableDataset):
    """The captioned scenes of steps `step`, `step + 1`, ...; with several workers, worker i draws every workers-th
    step from step + i, which DataLoader hands out in turn: the same batches in the same order."""

    def __init__(self, world: WorldSprites, batch_size: int, seed: int, step: int):
        self.world, self.batch_size, self.seed, self.step = world, batch_size, seed, step

    def __iter__(self) -> Iterator[tuple[torch.Tensor, list[str]]]:
        worker = torch.utils.data.get_worker_info()
        step, stride = (self.step + worker.id, worker.num_workers) if worker else (self.step, 1)
        while True:
            yield captioned_batch(random.Random(f"{self.seed}/{step}"), self.world, self.batch_size)
            step += stride


def _one_thread(worker: int) -> None:
    """A scene worker computes on one thread: the workers share the cores with each other and with training."""
    torch.set_num_threads(1)


def world_batches(world: WorldSprites, batch_size: int, seed: int, step: int,
                  workers: int = 0) -> Iterator[tuple[torch.Tensor, TextEncoding]]:
    """What the image models train on, from `step` on: fresh training scenes of the world (B x 3 x 64 x 64 in
    [-1, 1], scenes.captioned_batch) and their encoded captions. Each step's scenes come from a generator seeded by
    the step, so a resumed run draws what it would have drawn unstopped, with any number of `workers` (processes
    that draw the scenes while the model trains: on a GPU, drawing is what it would wait for)."""
    scenes = _Scenes(world, batch_size, seed, step)
    if workers:
        scenes = torch.utils.data.DataLoader(scenes, batch_size=None, num_workers=workers, prefetch_factor=4,
                                             worker_init_fn=_one_thread)
    for pictures, captions in scenes:
        text = encode(captions)  # inference tensors, which autograd refuses to save: the trainers get copies
        yield pictures, replace(text, token_states=text.token_states.clone(), sentence=text.sentence.clone())


def announce(name: str, model: torch.nn.Module, data: str, step: int) -> None:
    """The first line of a training log: model size, data (e.g. "3400 images"), and whether the run resumes."""
    print(f"{name} {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters, {data}, "
          f"{'resuming at step ' + str(step) if step else 'starting'}", flush=True)


def optimizer_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, model: torch.nn.Module, clip: float = 1.0) -> None:
    """Back-propagate loss and take a step, the gradient norm clipped to `clip`."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()


class EMA:
    """An exponential moving average of a model's weights: smoother samples than the raw weights."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))  # warm up: early weights are forgotten fast
        for ema, live in zip(self.model.parameters(), model.parameters(), strict=True):
            ema.lerp_(live, 1 - decay)
        for ema, live in zip(self.model.buffers(), model.buffers(), strict=True):  # batch-norm statistics
            ema.copy_(live)


def _flat(state: dict, prefix: str = "") -> dict[str, torch.Tensor]:
    """Nested dicts of tensors (optimizer state) flattened to safetensors keys; numbers become 0-d tensors."""
    out = {}
    for key, value in state.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, f"{name}."))
        elif isinstance(value, torch.Tensor):
            out[name] = value.contiguous()
    return out


def save_checkpoint(out: Path, step: int, modules: dict[str, torch.nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                    generator: torch.Generator, log: dict) -> None:
    """Write out/checkpoint atomically (a new folder renamed over the old one)."""
    target, partial = out / CHECKPOINT, out / f"{CHECKPOINT}.partial"
    partial.mkdir(parents=True, exist_ok=True)
    for name, module in modules.items():
        save_file({k: v.contiguous() for k, v in module.state_dict().items()}, partial / f"{name}.safetensors")
    for name, optimizer in optimizers.items():
        state = optimizer.state_dict()
        save_file(_flat(state["state"]), partial / f"{name}.safetensors")
        (partial / f"{name}.json").write_text(json.dumps(state["param_groups"]))
    save_file({"rng": generator.get_state(), "torch_rng": torch.get_rng_state()}, partial / "rng.safetensors")
    (partial / "progress.json").write_text(json.dumps({"step": step, **log}, indent=1))
    if target.exists():
        old = out / f"{CHECKPOINT}.old"
        target.rename(old)
        partial.rename(target)
        for file in old.iterdir():
            file.unlink()
        old.rmdir()
    else:
        partial.rename(target)


def load_checkpoint(out: Path, modules: dict[str, torch.nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                    generator: torch.Generator) -> int:
    """Restore a checkpoint written by save_checkpoint; returns its step (0 when there is none)."""
    folder = out / CHECKPOINT
    if not (folder / "progress.json").is_file():
        return 0
    for name, module in modules.items():
        module.load_state_dict(load_file(folder / f"{name}.safetensors"))
    for name, optimizer in optimizers.items():
        flat = load_file(folder / f"{name}.safetensors")
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in flat.items():
            index, field = key.split(".", 1)
            state.setdefault(int(index), {})[field] = value
        optimizer.load_state_dict({"state": state, "param_groups": json.loads((folder / f"{name}.json").read_text())})
    rng = load_file(folder / "rng.safetensors")
    generator.set_state(rng["rng"])
    torch.set_rng_state(rng["torch_rng"])
    return json.loads((folder / "progress.json").read_text())["step"]


class Progress:
    """Prints a line every `every` steps with the mean of each logged value and the speed."""

    def __init__(self, every: int = 50):
        self.every, self.sums, self.count, self.start = every, {}, 0, time.perf_counter()

    def log(self, step: int, **values: float) -> None:
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
        self.count += 1
        if step % self.every == 0:
            means = " ".join(f"{k} {v / self.count:.4f}" for k, v in self.sums.items())
            rate = self.count / (time.perf_counter() - self.start)
            print(f"step {step} {means} ({rate:.2f} steps/s)", flush=True)
            self.sums, self.count, self.start = {}, 0, time.perf_counter()
