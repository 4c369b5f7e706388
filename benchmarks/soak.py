"""Soak test: many clients of mixed traffic for some minutes, then an idle phase; does the app's memory come back down?

Starts the app (python app.py on a free port, PLAYGROUND_API_KEY set, fresh output and Gradio cache folders) or
talks to a running one (--url, with --pid for its memory), warms every model up, then runs --clients threads for
--minutes, each picking requests at random over every named Gradio endpoint (raw HTTP /gradio_api/call/<api_name>)
and /v1 (chat completions streamed and not, images): small generations, a few 1024-token ones, and deliberately bad
requests that must be refused cleanly (Gradio: an error event with a message; /v1: a 4xx in OpenAI's error shape).
Then --idle-minutes with no traffic.

Prints requests served, clean refusals and failures, p50/p95 latency per endpoint, the app's RSS (psutil) every
minute, its CPU use while idle, and the files in the output folder and in Gradio's cache folder. Exits 1 when a
request failed or when RSS at the end of the idle phase is more than --max-growth (15 %) above its level after the
warm-up.
Run: .venv/bin/python benchmarks/soak.py --minutes 3 --clients 16    (about 6 minutes with the warm-up and idle phase)
"""

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from bench_image import machine

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))
from playground import config

API_KEY = "soak-key"
TEXT_MODEL = config.DEFAULT_TEXT_MODEL
LONG_TOKENS = 1024
TIMEOUT_S = 600  # one request at most, a long generation on a loaded machine included
SERVED, REFUSED, BUSY, FAILED = "served", "refused", "busy", "failed"
KINDS = (SERVED, REFUSED, BUSY, FAILED)


@dataclass
class Outcome:
    """What the server did with one request, and why when it failed."""

    kind: str  # SERVED, REFUSED (a bad request answered with a readable error), BUSY (429: retry later) or FAILED
    detail: str = ""


class App:
    """The app under test: its URL and its process (for RSS and CPU)."""

    def __init__(self, url: str, process: psutil.Process, folders: list[Path], started: subprocess.Popen | None = None):
        self.url, self.process, self.folders, self.started = url.rstrip("/"), process, folders, started

    @classmethod
    def start(cls, workdir: Path) -> "App":
        """python app.py on a free port, with the soak's API key and its own output and Gradio cache folders."""
        port = free_port()
        output, gradio_cache = workdir / "output", workdir / "gradio"
        env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"} | {
            "GRADIO_SERVER_PORT": str(port), "PLAYGROUND_API_KEY": API_KEY,
            "PLAYGROUND_OUTPUT_DIR": str(output), "GRADIO_TEMP_DIR": str(gradio_cache),
        }
        log = (workdir / "app.log").open("w")
        started = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if started.poll() is not None:
                raise RuntimeError(f"the app exited early; see {log.name}")
            try:
                urllib.request.urlopen(url + "/", timeout=2)
                return cls(url, psutil.Process(started.pid), [output, gradio_cache], started)
            except OSError:
                time.sleep(0.5)
        started.kill()
        raise RuntimeError(f"the app did not start within 180 s; see {log.name}")

    def rss_mb(self) -> float:
        return self.process.memory_info().rss / 2**20

    def cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def files(self) -> dict[str, int]:
        return {str(folder): sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0 for folder in self.folders}

    def stop(self) -> None:
        if self.started is not None:
            self.started.terminate()
            self.started.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST body; returns the status and the whole answer (also for 4xx/5xx)."""
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/json"} | headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def gradio_call(app: App, api_name: str, inputs: list, bad: bool) -> Outcome:
    """Gradio's plain HTTP API: post the inputs, read the result's event stream to its last event."""
    status, answer = post(f"{app.url}/gradio_api/call/{api_name}", json.dumps({"data": inputs}).encode(), {})
    if status != 200:
        return Outcome(FAILED, f"join answered {status}: {answer[:200]!r}")
    event_id = json.loads(answer)["event_id"]
    with urllib.request.urlopen(f"{app.url}/gradio_api/call/{api_name}/{event_id}", timeout=TIMEOUT_S) as stream:
        events = stream.read().decode()
    last = events.strip().rsplit("event: ", 1)[-1]
    name, _, data = last.partition("\ndata: ")
    if name == "complete" and not bad:
        return Outcome(SERVED)
    if name == "error" and bad and data.strip() not in ("", "null"):
        return Outcome(REFUSED)
    return Outcome(FAILED, f"{'bad' if bad else 'good'} request ended with {name}: {data[:200]}")


def v1_call(app: App, path: str, body: dict | bytes, bad_status: int | None = None, key: str = API_KEY) -> Outcome:
    """POST to /v1; a good request must answer 200 with a whole answer (or 429: busy), a bad one bad_status with an error."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, answer = post(f"{app.url}/v1/{path}", data, {"authorization": f"Bearer {key}"})
    whole = answer.endswith(b"data: [DONE]\n\n") if isinstance(body, dict) and body.get("stream") else answer.startswith(b"{")
    if bad_status is None and status == 200 and whole:
        return Outcome(SERVED)
    if status in (bad_status, 429) and answer.startswith(b'{"error"'):
        return Outcome(BUSY if status == 429 else REFUSED)
    return Outcome(FAILED, f"{path} answered {status}: {answer[:200]!r}")


# Text settings in each endpoint's order (see playground/ui/*.py): small generations keep a run on 2 cores meaningful
def text_inputs(prompt: str, max_new_tokens: int, seed: int, temperature: float = 0.7) -> list:
    return [prompt, "local", TEXT_MODEL, "", temperature, 1.0, 0, max_new_tokens, 1.0, seed, "", ""]


def image_inputs(backend: str, seed: int, steps: int = 6, num_images: int = 2) -> list:
    return ["a red apple", "", backend, "", seed, num_images, steps, 3.0, "dpm++", "", ""]


def compare_settings(modality: str, backend: str, seed: int, steps: int = 4, max_new_tokens: int = 16) -> list:
    """CompareSettings' fields in order, then base_url and api_key."""
    return [modality, backend, "", seed, 2, "", steps, 3.0, "dpm++", "", 0.7, 1.0, max_new_tokens, "", ""]


def chat(max_tokens: int, seed: int, stream: bool = False, **extra) -> dict:
    return {"model": TEXT_MODEL, "messages": [{"role": "user", "content": "Name three fruits."}], "max_tokens": max_tokens,
            "seed": seed, "stream": stream, **extra}


# (label, weight, request(app, seed) -> Outcome): labels name the endpoint and the variant
Request = Callable[[App, int], Outcome]
MIX: list[tuple[str, float, Request]] = [
    ("generate_text", 8, lambda a, s: gradio_call(a, "generate_text", text_inputs("Write a haiku about rain.", 48, s), False)),
    ("generate_text (1024 tokens)", 0.4, lambda a, s: gradio_call(a, "generate_text", text_inputs("Tell me a long story about a robot.", LONG_TOKENS, s, 1.0), False)),
    ("next_token_distribution", 6, lambda a, s: gradio_call(a, "next_token_distribution", ["The capital of France is", TEXT_MODEL, 0.7, 10, 0.9, "local", "", "", ""], False)),
    ("generate_image (gan)", 5, lambda a, s: gradio_call(a, "generate_image", image_inputs("gan", s, num_images=4), False)),
    ("generate_image (diffusion)", 5, lambda a, s: gradio_call(a, "generate_image", image_inputs("diffusion", s), False)),
    ("generate_video", 3, lambda a, s: gradio_call(a, "generate_video", ["a bouncing red apple", None, "auto", 8, 8, s, "gan"], False)),
    ("compare_prompts (gan)", 2, lambda a, s: gradio_call(a, "compare_prompts", [["food", "a red apple"], *compare_settings("image", "gan", s)], False)),
    ("compare_prompts (text)", 1, lambda a, s: gradio_call(a, "compare_prompts", [["Name a fruit.", "Name a red fruit."], *compare_settings("text", "local", s)], False)),
    ("enhance_prompt", 1, lambda a, s: gradio_call(a, "enhance_prompt", ["a face", "image", "local", "", "", ""], False)),
    ("words_that_mattered", 1, lambda a, s: gradio_call(a, "words_that_mattered", ["a red apple, fruit", *compare_settings("image", "gan", s)], False)),
    ("temperature_sweep", 1, lambda a, s: gradio_call(a, "temperature_sweep", ["Name a colour.", [0, 1.2], "local", TEXT_MODEL, s, 2, "", 1.0, 16, "", ""], False)),
    ("/v1/chat/completions", 4, lambda a, s: v1_call(a, "chat/completions", chat(32, s))),
    ("/v1/chat/completions (stream)", 4, lambda a, s: v1_call(a, "chat/completions", chat(32, s, stream=True))),
    ("/v1/chat/completions (1024 tokens)", 0.2, lambda a, s: v1_call(a, "chat/completions", chat(LONG_TOKENS, s, stream=True, temperature=1.0))),
    ("/v1/images/generations", 3, lambda a, s: v1_call(a, "images/generations", {"model": "emoji-gan", "prompt": "a blue heart", "n": 2, "seed": s})),
    # bad requests: each must be refused with a message, never crash or hang
    ("bad generate_text (temperature 5)", 0.5, lambda a, s: gradio_call(a, "generate_text", text_inputs("Hi", 8, s, 5.0), True)),
    ("bad generate_image (0 steps)", 0.5, lambda a, s: gradio_call(a, "generate_image", image_inputs("diffusion", s, steps=0), True)),
    ("bad generate_video (1000 frames)", 0.5, lambda a, s: gradio_call(a, "generate_video", ["a red apple", None, "auto", 1000, 8, s, "gan"], True)),
    ("bad compare_prompts (1 prompt)", 0.5, lambda a, s: gradio_call(a, "compare_prompts", [["food"], *compare_settings("image", "gan", s)], True)),
    ("bad enhance_prompt (backend)", 0.5, lambda a, s: gradio_call(a, "enhance_prompt", ["a face", "image", "nope", "", "", ""], True)),
    ("bad next_token_distribution (top_k)", 0.5, lambda a, s: gradio_call(a, "next_token_distribution", ["Hi", TEXT_MODEL, 0.7, 10**6, 0.9, "local", "", "", ""], True)),
    ("bad /v1 (wrong key)", 0.5, lambda a, s: v1_call(a, "chat/completions", chat(8, s), 401, key="wrong")),
    ("bad /v1 (unknown model)", 0.5, lambda a, s: v1_call(a, "chat/completions", chat(8, s) | {"model": "nope"}, 404)),
    ("bad /v1 (temperature 5)", 0.5, lambda a, s: v1_call(a, "chat/completions", chat(8, s, temperature=5), 400)),
    ("bad /v1 (malformed JSON)", 0.5, lambda a, s: v1_call(a, "chat/completions", b"{not json", 400)),
    ("bad /v1 images (url format)", 0.5, lambda a, s: v1_call(a, "images/generations", {"prompt": "a cat", "response_format": "url"}, 400)),
]
WARM_UP = ["generate_text", "next_token_distribution", "generate_image (gan)", "generate_image (diffusion)", "generate_video",
           "compare_prompts (gan)", "compare_prompts (text)", "/v1/images/generations"]


@dataclass
class Results:
    """Every request's label, outcome and seconds, recorded by the client threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    records: list[tuple[str, Outcome, float]] = field(default_factory=list)

    def add(self, label: str, outcome: Outcome, seconds: float) -> None:
        with self.lock:
            self.records.append((label, outcome, seconds))


def run_one(app: App, label: str, request: Request, seed: int, results: Results) -> None:
    begin = time.perf_counter()
    try:
        outcome = request(app, seed)
    except Exception as error:  # a dropped connection, a timeout, an unreadable answer: all count as failures
        outcome = Outcome(FAILED, f"{type(error).__name__}: {error}")
    results.add(label, outcome, time.perf_counter() - begin)


def client(app: App, index: int, deadline: float, results: Results) -> None:
    rng = random.Random(index)
    labels, weights = [m[0] for m in MIX], [m[1] for m in MIX]
    requests = {label: request for label, _, request in MIX}
    while time.monotonic() < deadline:
        label = rng.choices(labels, weights)[0]
        run_one(app, label, requests[label], rng.randrange(1000), results)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def report(results: Results) -> int:
    """Print the per-endpoint table; returns the number of failures."""
    by_label: dict[str, list[tuple[Outcome, float]]] = defaultdict(list)
    for label, outcome, seconds in results.records:
        by_label[label].append((outcome, seconds))
    print(f"\n{'endpoint':40}{'served':>8}{'refused':>9}{'busy':>6}{'failed':>8}{'p50 s':>8}{'p95 s':>8}")
    for label, _, _ in MIX:
        rows = by_label.get(label, [])
        counts = {kind: sum(o.kind == kind for o, _ in rows) for kind in KINDS}
        answered = [s for o, s in rows if o.kind in (SERVED, REFUSED)]
        p50 = f"{percentile(answered, 50):8.2f}" if answered else f"{'-':>8}"
        p95 = f"{percentile(answered, 95):8.2f}" if answered else f"{'-':>8}"
        print(f"{label:40}{counts[SERVED]:8}{counts[REFUSED]:9}{counts[BUSY]:6}{counts[FAILED]:8}{p50}{p95}")
    total = {kind: sum(o.kind == kind for _, o, _ in results.records) for kind in KINDS}
    print(f"{'all':40}{total[SERVED]:8}{total[REFUSED]:9}{total[BUSY]:6}{total[FAILED]:8}")
    failures = [(label, o.detail) for label, o, _ in results.records if o.kind == FAILED]
    for label, detail in failures[:10]:
        print(f"  failed: {label}: {detail[:300]}")
    return len(failures)


def watch(app: App, seconds: float, every: float, phase: str, start: float) -> None:
    """Print the app's RSS every `every` seconds for `seconds`."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(every, left))
        print(f"  {time.monotonic() - start:6.0f} s  {phase:8} RSS {app.rss_mb():7.0f} MB", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app (default: start python app.py on a free port)")
    parser.add_argument("--pid", type=int, help="with --url: the app's process id, for its memory (default: found by its port)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=3, help="of mixed traffic")
    parser.add_argument("--idle-minutes", type=float, default=2)
    parser.add_argument("--max-growth", type=float, default=0.15, help="RSS growth allowed from warm-up to the end of the idle phase")
    args = parser.parse_args(argv)
    print(f"{machine()}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="soak-") as workdir:
        app = attach(args) if args.url else App.start(Path(workdir))
        try:
            return soak(app, args)
        finally:
            app.stop()


def attach(args: argparse.Namespace) -> App:
    """A running app: its process is --pid or the one listening on the URL's port."""
    port = int(args.url.rsplit(":", 1)[1].split("/")[0])
    pid = args.pid or next(c.pid for c in psutil.net_connections("tcp") if c.laddr.port == port and c.status == "LISTEN")
    return App(args.url, psutil.Process(pid), [config.OUTPUT_DIR, Path(os.environ.get("GRADIO_TEMP_DIR", Path(tempfile.gettempdir()) / "gradio"))])


def soak(app: App, args: argparse.Namespace) -> int:
    start = time.monotonic()
    print(f"app at {app.url}, pid {app.process.pid}: RSS {app.rss_mb():.0f} MB at start")
    warm = Results()
    for label, _, request in MIX:  # every model loaded once, and every endpoint seen, before RSS is taken as the baseline
        if label in WARM_UP:
            run_one(app, label, request, 0, warm)
    failures = report(warm) if any(o.kind == FAILED for _, o, _ in warm.records) else 0
    baseline = app.rss_mb()
    print(f"after warm-up ({time.monotonic() - start:.0f} s): RSS {baseline:.0f} MB; "
          f"{args.clients} clients for {args.minutes:g} min, then {args.idle_minutes:g} min idle")
    results, deadline = Results(), time.monotonic() + args.minutes * 60
    threads = [threading.Thread(target=client, args=(app, i, deadline, results), daemon=True) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    watch(app, args.minutes * 60, 60, "traffic", start)
    for thread in threads:  # requests started before the deadline finish
        thread.join(timeout=TIMEOUT_S)
    print(f"  {time.monotonic() - start:6.0f} s  drained   RSS {app.rss_mb():7.0f} MB")
    failures += report(results)
    cpu_before, idle_start = app.cpu_seconds(), time.monotonic()
    watch(app, args.idle_minutes * 60, 60, "idle", start)
    idle_cpu = (app.cpu_seconds() - cpu_before) / (time.monotonic() - idle_start)
    end = app.rss_mb()
    growth = end / baseline - 1
    print(f"\nserved {sum(o.kind == SERVED for _, o, _ in results.records)} requests in {args.minutes:g} min "
          f"({args.clients} clients), clean refusals {sum(o.kind in (REFUSED, BUSY) for _, o, _ in results.records)}, failures {failures}")
    print(f"RSS after warm-up {baseline:.0f} MB, at the end of the idle phase {end:.0f} MB ({growth:+.1%}; limit +{args.max_growth:.0%})")
    print(f"CPU while idle: {idle_cpu:.1%} of a core; threads {app.process.num_threads()}")
    for folder, count in app.files().items():
        print(f"files in {folder}: {count}")
    return int(failures > 0 or growth > args.max_growth)


if __name__ == "__main__":
    sys.exit(main())
