"""Stepping and every token's probability over real HTTP, on the embedded model: /step makes the tokens
/token_probabilities (and /generate_text) makes, and a reply continued from one of its tokens ends as it did."""

import pytest
from gradio_client import Client

pytestmark = pytest.mark.embedded
PROMPT = "Name a fruit."
SETTINGS = {"temperature": 1.0, "seed": 4}


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url, verbose=False)


def token_ids(result: dict) -> list[int]:
    return [step["token"]["token_id"] for step in result["tokens"]]


def test_steps_make_the_tokens_and_text_a_generation_makes(client):
    whole = client.predict(prompt=PROMPT, max_new_tokens=6, **SETTINGS, api_name="/token_probabilities")
    ids = []
    for _ in range(6):
        step = client.predict(prompt=PROMPT, reply_token_ids=ids, **SETTINGS, api_name="/step")
        ids = step["reply_token_ids"]

    assert ids == token_ids(whole)
    assert step["reply_text"] == whole["text"] == client.predict(prompt=PROMPT, max_new_tokens=6, **SETTINGS, api_name="/generate_text")
    assert all(0 < s["probability"] <= 1 and 0 <= s["number"] < 1 for s in whole["tokens"])


def test_a_chosen_candidate_is_taken_and_the_reply_continues_from_it(client):
    first = client.predict(prompt=PROMPT, **SETTINGS, api_name="/step")
    other = next(c for c in first["candidates"] if c["token_id"] != first["token"]["token_id"])

    chosen = client.predict(prompt=PROMPT, chosen=other["token_id"], **SETTINGS, api_name="/step")
    continued = client.predict(prompt=PROMPT, reply_token_ids=chosen["reply_token_ids"], max_new_tokens=5, **SETTINGS,
                               api_name="/token_probabilities")

    assert chosen["token"]["token_id"] == other["token_id"] and chosen["number"] is None
    whole = client.predict(prompt=PROMPT, max_new_tokens=8, **SETTINGS, api_name="/token_probabilities")
    rest = client.predict(prompt=PROMPT, reply_token_ids=token_ids(whole)[:3], max_new_tokens=5, **SETTINGS,
                          api_name="/token_probabilities")
    assert token_ids(rest) == token_ids(whole)[3:]
    assert continued["tokens"] and continued["probabilities"] == "as drawn"


def test_a_step_with_a_token_id_outside_the_vocabulary_is_refused(client):
    with pytest.raises(Exception, match=r"reply_token_ids\[1\] must be between 0 and \d+, got 99999999"):
        client.predict(prompt=PROMPT, reply_token_ids=[504, 99999999], api_name="/step")
