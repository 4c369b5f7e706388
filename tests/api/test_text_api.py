"""The Text tab's endpoints over real HTTP: the app runs as `python app.py` with the embedded model."""

import time

import openai
import pytest
import torch
from conftest import SERVER_API_KEY, call_raw
from gradio_client import Client

from playground.text import local

pytestmark = pytest.mark.embedded
USER_SECRET = "sk-user-a-private-key-789"


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url, verbose=False)


def generate(client: Client, **kwargs) -> str:
    return client.predict(api_name="/generate_text", **({"prompt": "Name a fruit.", "max_new_tokens": 12} | kwargs))


def test_generate_text_streams_and_ends_with_the_whole_text(client):
    job = client.submit(prompt="Tell me about cats.", temperature=0.8, seed=2, max_new_tokens=30, api_name="/generate_text")
    final = job.result()
    values = [v for v in job.outputs() if v]
    assert len(values) >= 3
    assert all(later.startswith(earlier) for earlier, later in zip(values, values[1:]))
    assert values[-1] == final and len(final) > 20


def test_same_seed_gives_the_same_text_and_temperature_zero_ignores_the_seed(client):
    assert generate(client, temperature=1.0, seed=7) == generate(client, temperature=1.0, seed=7)
    assert generate(client, temperature=0, seed=1) == generate(client, temperature=0, seed=2)


def test_next_token_distribution_is_softmax_of_the_model_logits(client, embedded_model):
    prompt, system = "The capital of France is", "Answer briefly."
    result = client.predict(prompt=prompt, model=embedded_model, temperature=0.6, top_k=8, top_p=0.8, system_prompt=system, api_name="/next_token_distribution")
    rows = [dict(zip(result["headers"], row)) for row in result["data"]]
    lm = local.load_model(embedded_model)
    with torch.no_grad():
        logits = lm.model(local.input_ids(lm, local.chat_messages(prompt, system))[None]).logits[0, -1]
    expected_at_t = torch.softmax(logits / 0.6, -1).sort(descending=True)
    assert [r["probability_at_temperature"] for r in rows] == pytest.approx(expected_at_t.values[:8].tolist(), abs=1e-5)
    assert [r["probability"] for r in rows] == pytest.approx(torch.softmax(logits, -1).sort(descending=True).values[:8].tolist(), abs=1e-5)
    assert [r["token"] for r in rows] == [lm.tokenizer.decode([i]) for i in expected_at_t.indices[:8].tolist()]
    kept = [r["in_top_p"] for r in rows]
    assert kept[0] and kept == sorted(kept, reverse=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompt": ""}, "prompt must not be empty"),
        ({"prompt": "x" * 8001}, "prompt is too long: 8001 characters, the limit is 8000"),
        ({"temperature": 5}, "temperature must be between 0 and 2, got 5"),
        ({"temperature": -1}, "temperature must be between 0 and 2, got -1"),
        ({"top_p": 0}, "top_p must be greater than 0 and at most 1, got 0"),
        ({"top_p": 1.5}, "top_p must be greater than 0 and at most 1, got 1.5"),
        ({"top_k": -1}, "top_k must be between 0 and 100, got -1"),
        ({"max_new_tokens": 0}, "max_new_tokens must be between 1 and 1024, got 0"),
        ({"max_new_tokens": 100000}, "max_new_tokens must be between 1 and 1024, got 100000"),
        ({"repetition_penalty": 0}, "repetition_penalty must be greater than 0"),
        ({"seed": -1}, "seed must be between 0 and 4294967295, got -1"),
        ({"seed": 2.5}, "seed must be a whole number, got 2.5"),
        ({"backend": "gpt"}, "backend must be one of 'local', 'openai', got 'gpt'"),
        ({"model": "not a model!"}, "model must be a local model folder or a hub id like 'org/name', got 'not a model!'"),
        ({"model": "/"}, "model folder '/' has no config.json"),
    ],
)
def test_bad_input_gets_a_message_naming_the_parameter(client, kwargs, message):
    with pytest.raises(Exception, match=message.replace("(", r"\(").replace(")", r"\)")):
        generate(client, **kwargs)


def test_nan_sent_over_raw_http_is_refused_and_the_server_keeps_serving(app, client):
    inputs = '["hi", "local", "", "", NaN, 1.0, 0, 10, 1.0, 0, "", ""]'
    events = call_raw(app, "generate_text", '{"data": %s}' % inputs)
    assert "event: error" in events and "temperature must be a finite number" in events
    assert generate(client, temperature=0)


def test_a_hub_id_while_offline_fails_within_5_s_and_the_default_still_works(client):
    begin = time.monotonic()
    with pytest.raises(Exception, match="cannot be reached|not found on the Hugging Face hub"):
        generate(client, model="generative-playground-tests/not-a-model")
    assert time.monotonic() - begin < 5
    assert generate(client, temperature=0)


def test_each_caller_uses_only_their_own_api_key(app, client):
    base_url = f"{app.url}/v1"
    user_a = Client(app.url, verbose=False)
    user_b = Client(app.url, verbose=False)
    text_a = generate(user_a, backend="openai", model="HuggingFaceTB/SmolLM2-135M-Instruct", base_url=base_url, api_key=SERVER_API_KEY, temperature=0)
    assert text_a
    with pytest.raises(Exception, match=r"API key was rejected \(401") as error:
        generate(user_b, backend="openai", model="HuggingFaceTB/SmolLM2-135M-Instruct", base_url=base_url, api_key=USER_SECRET)
    assert USER_SECRET not in str(error.value)
    with pytest.raises(Exception, match="API key was rejected"):  # B's empty key never falls back to A's
        generate(user_b, backend="openai", model="HuggingFaceTB/SmolLM2-135M-Instruct", base_url=base_url, api_key="")


def test_next_token_view_through_a_server_uses_its_logprobs(app, client):
    result = client.predict(
        prompt="Name a fruit.", model="HuggingFaceTB/SmolLM2-135M-Instruct", temperature=1.0, top_k=5, top_p=1.0,
        backend="openai", base_url=f"{app.url}/v1", api_key=SERVER_API_KEY, api_name="/next_token_distribution",
    )
    assert len(result["data"]) == 5
    assert all(0 < row[1] <= 1 for row in result["data"])


def test_v1_endpoint_serves_the_official_openai_client(app, embedded_model):
    sdk = openai.OpenAI(base_url=f"{app.url}/v1", api_key=SERVER_API_KEY, max_retries=0)
    assert embedded_model in [m.id for m in sdk.models.list()]
    messages = [{"role": "user", "content": "Say hello."}]
    whole = sdk.chat.completions.create(model=embedded_model, messages=messages, max_tokens=10, temperature=0)
    chunks = list(sdk.chat.completions.create(model=embedded_model, messages=messages, max_tokens=10, temperature=0, stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == whole.choices[0].message.content and streamed
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{app.url}/v1", api_key="wrong", max_retries=0).models.list()
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="no-such-model", messages=messages)


def test_keys_never_reach_the_server_log(app, client):
    with pytest.raises(Exception):
        generate(client, backend="openai", base_url=f"{app.url}/v1", api_key=USER_SECRET, model="HuggingFaceTB/SmolLM2-135M-Instruct")
    log = app.log()
    assert USER_SECRET not in log and SERVER_API_KEY not in log
