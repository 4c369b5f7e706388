"""The Image tab's endpoint and /v1/images/generations over real HTTP, with our shipped image models."""

import base64
import io
import re
import threading
import time

import numpy as np
import openai
import pytest
from conftest import SERVER_API_KEY, call_raw, require
from gradio_client import Client, handle_file
from PIL import Image

from playground import config
from playground.image import diffusion, metadata
from playground.image.world import COLOUR_RGB

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def client(app) -> Client:
    require((config.DIFFUSION_MODEL_DIR / "model_index.json").is_file(), "the shipped diffusion model is missing")
    return Client(app.url, verbose=False)


def generate(client: Client, **kwargs) -> tuple[list[dict], list[dict]]:
    settings = {"prompt": "a red apple", "num_images": 2, "num_inference_steps": 8} | kwargs
    return client.predict(api_name="/generate_image", **settings)


def pixels(gallery: list[dict]) -> list[np.ndarray]:
    return [np.asarray(Image.open(item["image"]).convert("RGB")) for item in gallery]


def test_generate_image_returns_pngs_that_carry_their_settings(client):
    gallery, settings = generate(client, seed=5, num_images=3, guidance_scale=2.5, scheduler="ddim")
    assert len(gallery) == 3 and len(settings) == 3
    for item, expected, seed in zip(gallery, settings, (5, 6, 7)):
        stored = metadata.read_settings(item["image"])
        assert stored == expected
        assert stored["seed"] == seed and stored["scheduler"] == "ddim" and stored["guidance_scale"] == 2.5
        with Image.open(item["image"]) as png:
            assert png.format == "PNG" and png.text["ai_generated"] == "true"
            assert "trainedAlgorithmicMedia" in png.text["XML:com.adobe.xmp"]


def test_same_seed_gives_the_same_pixels_and_another_seed_does_not(client):
    first, again, other = (pixels(generate(client, seed=s)[0]) for s in (11, 11, 12))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])


def test_the_gan_makes_a_picture_with_or_without_a_prompt(client):
    for prompt in ("a blue heart", ""):
        gallery, settings = generate(client, backend="gan", prompt=prompt, num_images=1)
        assert len(gallery) == 1 and settings[0] == {"prompt": prompt, "backend": "gan", "model": "emoji-gan", "seed": 0}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_inference_steps": 0}, "num_inference_steps must be between 1 and 200, got 0"),
        ({"num_inference_steps": 201}, "num_inference_steps must be between 1 and 200, got 201"),
        ({"guidance_scale": -1}, "guidance_scale must be between 0 and 30, got -1"),
        ({"guidance_scale": 31}, "guidance_scale must be between 0 and 30, got 31"),
        ({"num_images": 0}, "num_images must be between 1 and 8, got 0"),
        ({"num_images": 9}, "num_images must be between 1 and 8, got 9"),
        ({"backend": "vae"}, "backend must be one of 'gan', 'diffusion', 'openai', got 'vae'"),
        ({"scheduler": "lms"}, "scheduler must be one of 'dpm++', 'euler', 'ddim', 'ddpm', got 'lms'"),
        ({"model": "not a model!"}, "model must be a local model folder or a hub id like 'org/name'"),
        ({"model": "/"}, "model folder '/' has no model_index.json"),
        ({"prompt": "x" * 8001}, "prompt is too long: 8001 characters, the limit is 8000"),
        ({"seed": -1}, "seed must be between 0 and 4294967295, got -1"),
    ],
)
def test_bad_input_gets_a_message_naming_the_parameter(client, kwargs, message):
    with pytest.raises(Exception, match=re.escape(message)):
        generate(client, **kwargs)


def test_nan_and_infinity_sent_over_raw_http_are_refused_and_the_server_keeps_serving(app, client):
    for value in ("NaN", "Infinity"):
        inputs = f'["a red apple", "", "diffusion", "", 0, 1, 4, {value}, "dpm++", "", ""]'
        events = call_raw(app, "generate_image", f'{{"data": {inputs}}}')
        assert "event: error" in events and "guidance_scale must be a finite number between 0 and 30" in events
    assert len(generate(client, num_images=1)[0]) == 1


def test_a_hub_id_while_offline_fails_within_5_s(client):
    begin = time.monotonic()
    with pytest.raises(Exception, match="cannot be reached|not found on the Hugging Face hub"):
        generate(client, model="generative-playground-tests/not-a-pipeline")
    assert time.monotonic() - begin < 5


def test_concurrent_requests_share_one_pipeline_safely(app, client):
    """Two requests at once (the queue runs two) get exactly what each gets alone."""
    alone = {seed: pixels(generate(client, seed=seed)[0]) for seed in (21, 22)}
    together: dict[int, list[np.ndarray]] = {}

    def run(seed: int) -> None:
        together[seed] = pixels(generate(Client(app.url, verbose=False), seed=seed)[0])

    threads = [threading.Thread(target=run, args=(seed,)) for seed in (21, 22)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for seed in (21, 22):
        assert all(np.array_equal(a, b) for a, b in zip(alone[seed], together[seed]))


def test_v1_images_serves_the_official_openai_client(app, client):
    v1 = openai.OpenAI(base_url=f"{app.url}/v1", api_key=SERVER_API_KEY)
    response = v1.images.generate(model=config.OWN_DIFFUSION_MODEL, prompt="a yellow banana", n=2,
                                  response_format="b64_json")
    pictures = [Image.open(io.BytesIO(base64.b64decode(item.b64_json))) for item in response.data]
    side = diffusion.load_pipeline(config.OWN_DIFFUSION_MODEL).pipeline.image_size
    assert [p.size for p in pictures] == [(side, side)] * 2
    with pytest.raises(openai.NotFoundError):
        v1.images.generate(model="dall-e-9", prompt="a yellow banana")
    with pytest.raises(openai.BadRequestError, match=f"- n must be between 1 and {config.MAX_NUM_IMAGES}, got 20"):
        v1.images.generate(model="emoji-gan", prompt="a yellow banana", n=20)


def test_the_openai_backend_reaches_a_compatible_server_with_this_callers_key_only(app, client):
    base_url = f"{app.url}/v1"
    gallery, settings = generate(client, backend="openai", model="emoji-gan", base_url=base_url, api_key=SERVER_API_KEY)
    assert len(gallery) == 2 and settings[0]["backend"] == "openai"
    with pytest.raises(Exception, match=r"API key was rejected \(401"):
        generate(Client(app.url, verbose=False), backend="openai", model="emoji-gan", base_url=base_url, api_key="wrong")


@pytest.fixture(scope="module")
def blue_picture(tmp_path_factory):
    require((config.JUDGE_MODEL_DIR / "model.safetensors").is_file(), "the shipped judge is missing")
    path = tmp_path_factory.mktemp("judge") / "blue.png"
    Image.new("RGB", (48, 48), COLOUR_RGB["blue"]).save(path)
    return path


def judge(client: Client, prompt: str, path) -> tuple[list[dict], int, str]:
    return client.predict(prompt, handle_file(str(path)), api_name="/judge_image")


def test_judge_image_returns_each_detail_of_the_prompt_with_whether_the_picture_honours_it(client, blue_picture):
    checks, honoured, summary = judge(client, "an apple on a blue background", blue_picture)
    assert [(c["detail"], c["kind"], c["honoured"]) for c in checks] == [
        ("apple", "object", False), ("blue background", "background", True)]
    assert checks[0]["found"] == "found nothing" and checks[1]["found"] == ""
    assert honoured == 1
    assert summary == "✗ apple (found nothing) · ✓ blue background — **1 of 2**"


def test_judge_image_notes_words_outside_the_vocabulary(client, blue_picture):
    checks, honoured, summary = judge(client, "a skyscraper on a blue background", blue_picture)
    assert [c["kind"] for c in checks] == ["background"] and honoured == 1
    assert summary.startswith("⚠️ 'skyscraper' is not in this model's vocabulary")


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("", "prompt must not be empty"),
        (5, "prompt must be text, got a number"),
        ("x" * (config.MAX_PROMPT_CHARS + 1),
         f"prompt is too long: {config.MAX_PROMPT_CHARS + 1} characters, the limit is {config.MAX_PROMPT_CHARS}"),
    ],
)
def test_judge_image_refuses_a_bad_prompt_naming_it(client, blue_picture, prompt, message):
    with pytest.raises(Exception, match=re.escape(message)):
        judge(client, prompt, blue_picture)


def test_judge_image_refuses_a_missing_picture_a_file_that_is_not_one_and_one_too_large(client, blue_picture, tmp_path):
    with pytest.raises(Exception, match=re.escape("image must be a picture uploaded to this app, got none")):
        client.predict("an apple", None, api_name="/judge_image")
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(Exception, match=re.escape("file is not a picture")):
        judge(client, "an apple", text)
    huge = tmp_path / "huge.png"
    Image.new("1", (5000, 5000)).save(huge)
    with pytest.raises(Exception, match=re.escape("picture is too large: 5000x5000 pixels")):
        judge(client, "an apple", huge)

