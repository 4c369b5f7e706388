"""Fuzzing every parameter of every named endpoint and every field of /v1 over raw HTTP, bounded in examples:
whatever a visitor sends, the answer is a result or a clear error (a value of the wrong type always an error naming
the parameter; at /v1 a 4xx in OpenAI's shape), never a traceback, a 5xx or a hang, and the app keeps serving."""

import json
import os
import urllib.error
import urllib.request

import pytest
from conftest import SERVER_API_KEY, error_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.embedded

# Cheap valid values where an endpoint's own defaults would take long; every other parameter keeps its default
CHEAP = {"prompt": "a red apple", "backend": "gan", "num_images": 1, "num_seeds": 1, "max_new_tokens": 2,
         "num_inference_steps": 2, "num_frames": 4, "image_backend": "gan", "prompts": ["apple", "a red apple"]}
CHEAP_BY_ENDPOINT = {"generate_text": {"backend": "local"}, "token_probabilities": {"backend": "local"}, "next_token_distribution": {"backend": "local"},
                     "enhance_prompt": {"backend": "local"}, "temperature_sweep": {"backend": "local", "temperatures": [0.0]},
                     "chat": {"backend": "local", "messages": [{"role": "user", "content": "Hi"}]},
                     "attention": {"reply_token_ids": [504, 3575], "token_index": 1}}
EXAMPLES_PER_ENDPOINT = int(os.environ.get("FUZZ_EXAMPLES", "12"))  # more for a deeper run by hand

HOSTILE_TEXT = ["x\ud800y", "", " ", "../../../etc/passwd", "/dev/zero", "http://169.254.169.254/latest", "<script>",
                "a" * 20_000, "NaN", "-1"]
FILE_PATHS = ["/etc/passwd", "/dev/zero", "/tmp/../etc/passwd", "http://127.0.0.1:9/x.png", "", "relative.png"]
values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20), st.sampled_from(HOSTILE_TEXT),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.builds(lambda path: {"path": path, "meta": {"_type": "gradio.FileData"}}, st.sampled_from(FILE_PATHS)),
)


def json_type(value) -> str:
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


@pytest.fixture(scope="module")
def endpoints(app) -> dict[str, dict]:
    """Every named endpoint with a cheap valid value for each of its parameters, from the app's own API info."""
    info = json.load(urllib.request.urlopen(f"{app.url}/gradio_api/info", timeout=30))["named_endpoints"]
    return {
        name.lstrip("/"): {p["parameter_name"]: CHEAP_BY_ENDPOINT.get(name.lstrip("/"), {}).get(
            p["parameter_name"], CHEAP.get(p["parameter_name"], p["parameter_default"])) for p in endpoint["parameters"]}
        for name, endpoint in info.items()
    }


def call(app, endpoint: str, inputs: list) -> tuple[str | None, str]:
    """(the error message, or None on success; the whole response text) of one raw call."""
    body = json.dumps({"data": inputs}).encode()
    request = urllib.request.Request(f"{app.url}/gradio_api/call/{endpoint}", data=body,
                                     headers={"content-type": "application/json"})
    try:
        event_id = json.load(urllib.request.urlopen(request, timeout=30))["event_id"]
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        assert error.code < 500, f"{error.code}: {text}"
        return text, text
    events = urllib.request.urlopen(f"{app.url}/gradio_api/call/{endpoint}/{event_id}", timeout=120).read().decode()
    assert "event: complete" in events or "event: error" in events, events[:500]
    return error_of(events), events


NAMED = ["generate_text", "next_token_distribution", "generate_image", "generate_video", "compare_prompts",
         "enhance_prompt", "words_that_mattered", "temperature_sweep", "step", "token_probabilities",
         "nearest_tokens", "embedding_map", "chat", "attention"]


@pytest.mark.parametrize("endpoint", NAMED)
def test_every_parameter_of_every_endpoint_takes_hostile_values_cleanly(app, endpoints, endpoint):
    assert endpoint in endpoints, f"{endpoint} is not a named endpoint any more"
    base = endpoints[endpoint]

    @settings(max_examples=EXAMPLES_PER_ENDPOINT, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(parameter=st.sampled_from(list(base)), value=values)
    def hostile(parameter, value):
        message, response = call(app, endpoint, list((base | {parameter: value}).values()))
        assert "Traceback" not in response
        if base[parameter] is not None and json_type(value) != json_type(base[parameter]):
            assert message is not None, f"{parameter}={value!r} (a value of the wrong type) was accepted"
            assert parameter in message, f"{parameter}={value!r}: {message!r} does not name the parameter"
        if message is not None:
            assert message.strip(), f"{parameter}={value!r} gave an empty error"

    hostile()
    assert call(app, endpoint, list(base.values()))[0] is None, "the endpoint's valid call fails after fuzzing"
    assert "Traceback" not in app.log()


V1_BODIES = {
    "chat/completions": {"model": "HuggingFaceTB/SmolLM2-135M-Instruct", "messages": [{"role": "user", "content": "Hi"}],
                         "max_tokens": 2, "temperature": 0, "stream": False},
    "images/generations": {"model": "emoji-gan", "prompt": "a red apple", "n": 1, "response_format": "b64_json"},
}
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                           max_leaves=8)


def post_v1(app, route: str, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(f"{app.url}/v1/{route}", data=body, headers={
        "content-type": "application/json", "authorization": f"Bearer {SERVER_API_KEY}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, {}  # an answer (a whole reply, or events when streamed)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.mark.parametrize("route", V1_BODIES)
def test_every_field_of_v1_takes_hostile_values_with_a_4xx_in_openais_shape(app, route):
    base = V1_BODIES[route]
    message_fields = ["messages.role", "messages.content"] if "messages" in base else []

    @settings(max_examples=EXAMPLES_PER_ENDPOINT * 2, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(field=st.sampled_from([*base, *message_fields, "whole body"]),
           value=st.one_of(values, json_values))
    def hostile(field, value):
        if field == "whole body":
            body = value
        elif field.startswith("messages."):
            body = base | {"messages": [{"role": "user", "content": "Hi"} | {field.split(".")[1]: value}]}
        else:
            body = base | {field: value}
        status, answer = post_v1(app, route, json.dumps(body).encode())
        assert status < 500, answer
        if status >= 400:
            assert isinstance(answer, dict) and answer["error"]["message"].strip(), answer

    hostile()
    assert post_v1(app, route, json.dumps(base).encode())[0] == 200
    assert "Traceback" not in app.log()
