"""Shared fixtures: a tiny model saved to disk, the embedded model, the real app on a free port, and Chromium."""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

from playground import config, registry
from playground.image.judge import Judge, JudgeConfig, save_judge
from playground.training import emoji_data
from playground.training.emoji_data import DATA_PACKAGE, DATA_VERSION, EXTRACTED_MARKER, IMAGES_PACKAGE, IMAGES_VERSION

ROOT = Path(__file__).parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
SERVER_API_KEY = "test-server-key"  # the key the app's /v1 endpoint requires in the API tests
OPERATOR_OPENAI_KEY = "sk-operator-secret-789"  # the app's OPENAI_API_KEY in the API tests: it must never leave


def require(condition: bool, reason: str) -> None:
    """Skip when a dependency is missing on a developer's machine; fail under CI, where it must be there."""
    if not condition:
        if IN_CI:
            pytest.fail(f"missing under CI: {reason}")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call_raw(app: "RunningApp", api_name: str, data_json: str) -> str:
    """Gradio's plain HTTP API: POST the inputs, then read the event stream of the result."""
    request = urllib.request.Request(
        f"{app.url}/gradio_api/call/{api_name}", data=data_json.encode(), headers={"content-type": "application/json"}
    )
    event_id = json.load(urllib.request.urlopen(request, timeout=30))["event_id"]
    return urllib.request.urlopen(f"{app.url}/gradio_api/call/{api_name}/{event_id}", timeout=120).read().decode()


def error_of(events: str) -> str | None:
    """The error message of a finished /call/ event stream ("" when Gradio hid it), or None when it succeeded."""
    if "event: error" not in events:
        return None
    data = json.loads(events.split("event: error\ndata: ", 1)[1].splitlines()[0] or "null")
    return (data.get("error") if isinstance(data, dict) else data) or ""


# Cheap valid values of every parameter of /generate_text and /generate_image, in their order, for raw HTTP calls
TEXT_INPUTS = {"prompt": "Hello", "backend": "local", "model": "", "system_prompt": "", "temperature": 0, "top_p": 1,
               "top_k": 0, "max_new_tokens": 2, "repetition_penalty": 1, "seed": 0, "base_url": "", "api_key": ""}
IMAGE_INPUTS = {"prompt": "a red apple", "negative_prompt": "", "backend": "gan", "model": "", "seed": 0, "num_images": 1,
                "num_inference_steps": 4, "guidance_scale": 3, "scheduler": "dpm++", "base_url": "", "api_key": ""}


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread: tiny models on a busy 2-core machine run faster without a second thread that mostly waits."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_judge(tmp_path, monkeypatch):
    """An untrained judge of a few channels, saved and loaded through the real code as the shipped one."""
    torch.manual_seed(0)
    save_judge(Judge(JudgeConfig(width=8)), tmp_path / "judge")
    monkeypatch.setattr(config, "JUDGE_MODEL_DIR", tmp_path / "judge")
    registry.clear()
    yield
    registry.clear()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer Llama with a word-level tokenizer and a chat template, saved like any hub model."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = ["the", "a", "cat", "dog", "sat", "on", "mat", "red", "blue", "green", "apple", "is", "and", ".", ",", "!", "?", "hello", "world", "what", "colour", "sky"]
    specials = ["<unk>", "<|im_start|>", "<|im_end|>", "system", "user", "assistant", "\n", " "]
    vocab = {token: i for i, token in enumerate(specials + words)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex(r"[^\s.,!?]+|\s|[.,!?]"), behavior="isolated")
    tokenizer.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", eos_token="<|im_end|>", bos_token="<|im_start|>")
    fast.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    fast.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=96, bos_token_id=1, eos_token_id=2, pad_token_id=0,
    )
    model = LlamaForCausalLM(config)
    folder = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def embedded_model() -> str:
    """The name of the embedded default text model; fails under CI when its package is missing."""
    from playground import config
    from playground.text.local import converted_gguf, embedded_gguf

    gguf = embedded_gguf()
    require(gguf is not None, f"the embedded model package ({config.EMBEDDED_TEXT_PACKAGE}) is not installed")
    converted_gguf(gguf)  # once, before any app starts: on a fresh machine this takes ~20 s
    return config.DEFAULT_TEXT_MODEL


class RecordingServer:
    """A local HTTP server that answers every POST with 401 and keeps the headers (lower-case names) and the bodies
    it received."""

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.headers: list[dict[str, str]] = []
        self.bodies: list[bytes] = []
        received, bodies = self.headers, self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append({name.lower(): value for name, value in self.headers.items()})
                bodies.append(self.rfile.read(int(self.headers.get("content-length", 0))))
                self.send_response(401)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error": {"message": "no", "type": "invalid_request_error"}}')

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def authorizations(self) -> list[str]:
        return [headers.get("authorization", "") for headers in self.headers]

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def recorder():
    server = RecordingServer()
    yield server
    server.stop()


class RunningApp:
    """The real app (python app.py) in a subprocess; its output is kept to check what it logs.

    python is the interpreter that runs it: this test environment's, or another venv's (the Space check).
    """

    def __init__(self, env: dict[str, str], python: str = sys.executable):
        self.port = free_port()
        self.env = env
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(env["PLAYGROUND_TEST_LOG"])
        self.process = subprocess.Popen(
            [python, str(ROOT / "app.py")],
            cwd=ROOT,
            env=env | {"GRADIO_SERVER_PORT": str(self.port)},
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited early:\n{self.log()}")
            try:
                urllib.request.urlopen(self.url + "/", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"the app did not start within 180 s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def app(embedded_model, tmp_path_factory) -> RunningApp:
    """One app for the API and browser tests, serving the embedded model; /v1 requires SERVER_API_KEY."""
    env = {key: value for key, value in os.environ.items() if key not in ("SPACE_ID", "PLAYGROUND_PUBLIC")}
    env |= {
        "OPENAI_API_KEY": OPERATOR_OPENAI_KEY,
        "PLAYGROUND_API_KEY": SERVER_API_KEY,
        "PLAYGROUND_TEST_LOG": str(tmp_path_factory.mktemp("app") / "app.log"),
        "PLAYGROUND_HUB_TIMEOUT": "2",
        "GRADIO_TEMP_DIR": str(tmp_path_factory.mktemp("gradio-uploads")),
    }
    running = RunningApp(env)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    require(path is not None, "Chromium is not installed (apt-get install chromium)")
    return path


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser(chromium_path):
    """Headless Chromium, driven by Playwright, for the browser tests."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser, app):
    """The app freshly loaded in its own browser context; fails the test on any uncaught script error."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app.url)
    page.locator("#text-prompt textarea").wait_for()
    yield page
    context.close()
    assert not errors, f"script errors in the page: {errors}"


# (label, emojibase group, subgroup, tags, colour, shape): group and subgroup are orders in messages.json below
EMOJI = [
    ("red apple", 4, 42, ["fruit"], (220, 30, 30), "circle"),
    ("blue square", 8, 98, ["shape"], (40, 80, 220), "square"),
    ("yellow circle", 8, 98, ["round"], (250, 210, 40), "circle"),
    ("green apple", 4, 42, ["fruit"], (40, 180, 60), "circle"),
    ("purple heart", 0, 14, ["love"], (140, 60, 200), "square"),
    ("brown square", 8, 98, ["shape"], (150, 100, 60), "square"),
]


def fake_packages(cache_dir):
    """The two npm packages as fetch_package leaves them extracted (see tests/unit/test_emoji_data.py)."""
    images_root = cache_dir / f"{IMAGES_PACKAGE}-{IMAGES_VERSION}" / "package"
    data_root = cache_dir / f"{DATA_PACKAGE}-{DATA_VERSION}" / "package"
    pictures = images_root / "img" / "google" / "64"
    pictures.mkdir(parents=True)
    (data_root / "en").mkdir(parents=True)
    codes = [f"{n:X}" for n in range(0x1F400, 0x1F4FF) if not emoji_data.is_heldout(f"{n:X}")][: len(EMOJI) - 1]
    codes.append(next(f"{n:X}" for n in range(0x1F400, 0x1F4FF) if emoji_data.is_heldout(f"{n:X}")))
    index, data = [], []
    for order, (code, (label, group, subgroup, tags, colour, shape)) in enumerate(zip(codes, EMOJI)):
        image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        (draw.ellipse if shape == "circle" else draw.rectangle)((8, 8, 56, 56), fill=colour + (255,))
        image.save(pictures / f"{code.lower()}.png")
        index.append({"unified": code, "name": label.upper(), "image": f"{code.lower()}.png", "sort_order": order,
                      "has_img_google": True})
        data.append({"hexcode": code, "label": label, "group": group, "subgroup": subgroup, "tags": tags})
    (images_root / "emoji.json").write_text(json.dumps(index))
    (data_root / "en" / "data.json").write_text(json.dumps(data))
    (data_root / "en" / "messages.json").write_text(json.dumps({
        "groups": [{"key": "smileys-emotion", "order": 0}, {"key": "food-drink", "order": 4},
                   {"key": "symbols", "order": 8}],
        "subgroups": [{"key": "heart", "order": 14}, {"key": "food-fruit", "order": 42},
                      {"key": "geometric", "order": 98}],
    }))
    for root, version in ((images_root, IMAGES_VERSION), (data_root, DATA_VERSION)):
        (root / "package.json").write_text(json.dumps({"version": version}))
        (root / "LICENSE").write_text("MIT")
        (root.parent / EXTRACTED_MARKER).touch()
