"""Shared fixtures: a tiny model saved to disk, the embedded model, the real app on a free port, and Chromium."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
SERVER_API_KEY = "test-server-key"  # the key the app's /v1 endpoint requires in the API tests


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


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread: tiny models on a busy 2-core machine run faster without a second thread that mostly waits."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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


class RunningApp:
    """The real app (python app.py) in a subprocess; its output is kept to check what it logs."""

    def __init__(self, env: dict[str, str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(env["PLAYGROUND_TEST_LOG"])
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py")],
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
    env = {key: value for key, value in os.environ.items() if key != "OPENAI_API_KEY"}
    env |= {
        "PLAYGROUND_API_KEY": SERVER_API_KEY,
        "PLAYGROUND_TEST_LOG": str(tmp_path_factory.mktemp("app") / "app.log"),
        "PLAYGROUND_HUB_TIMEOUT": "2",
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
