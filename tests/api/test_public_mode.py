"""A public deployment (on by default on a Hugging Face Space): over real HTTP, a visitor's base URL must be one the
operator listed and on a public address, and models only the listed ones."""

import json
import os

import pytest
from conftest import IMAGE_INPUTS, TEXT_INPUTS, RunningApp, call_raw, error_of

from playground import config

pytestmark = pytest.mark.embedded

LISTED_INTERNAL_URL = "http://127.0.0.1:9/v1"


@pytest.fixture(scope="module")
def space(embedded_model, tmp_path_factory):
    """The app as a Space runs it: SPACE_ID set, PLAYGROUND_PUBLIC not, one internal base URL listed by mistake."""
    env = {key: value for key, value in os.environ.items() if key not in ("OPENAI_API_KEY", "PLAYGROUND_PUBLIC")}
    env |= {"SPACE_ID": "someone/playground", "PLAYGROUND_ALLOWED_BASE_URLS": LISTED_INTERNAL_URL,
            "PLAYGROUND_TEST_LOG": str(tmp_path_factory.mktemp("space") / "app.log")}
    running = RunningApp(env)
    yield running
    running.stop()


def error(app, endpoint: str, values: dict) -> str | None:
    return error_of(call_raw(app, endpoint, json.dumps({"data": list(values.values())})))


def test_a_base_url_the_operator_did_not_list_is_refused(space):
    values = TEXT_INPUTS | {"backend": "openai", "model": "m", "base_url": "http://10.0.0.1/v1", "api_key": "k"}
    assert error(space, "generate_text", values).startswith(
        f"base_url 'http://10.0.0.1/v1' is not allowed on this public server; allowed: {LISTED_INTERNAL_URL}")


def test_a_listed_base_url_on_an_internal_address_is_refused(space):
    values = IMAGE_INPUTS | {"backend": "openai", "model": "m", "base_url": LISTED_INTERNAL_URL, "api_key": "k"}
    assert "base_url's host '127.0.0.1' resolves to an internal address" in error(space, "generate_image", values)


def test_a_local_folder_or_unlisted_hub_id_as_a_model_is_refused(space, tiny_model_dir):
    assert error(space, "generate_text", TEXT_INPUTS | {"model": str(tiny_model_dir)}) == (
        f"model {str(tiny_model_dir)!r} is not offered on this public server; models: {', '.join(config.TEXT_MODELS)}")
    offered = ", ".join([config.OWN_DIFFUSION_MODEL, *config.IMAGE_HUB_MODELS])
    assert error(space, "generate_image", IMAGE_INPUTS | {"backend": "diffusion", "model": "someone/else"}) == (
        f"model 'someone/else' is not offered on this public server; models: {offered}")


def test_the_listed_models_still_work(space):
    assert error(space, "generate_text", TEXT_INPUTS) is None
    assert error(space, "generate_image", IMAGE_INPUTS) is None
    assert "Traceback" not in space.log()
