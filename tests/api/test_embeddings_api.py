"""The embeddings view's endpoints over real HTTP: the app runs as `python app.py` with the embedded model."""

import json

import pytest
from conftest import call_raw, error_of
from gradio_client import Client

from playground import config
from playground.text import embeddings

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url, verbose=False)


def test_nearest_tokens_answers_with_the_backends_neighbours_as_a_table(client, embedded_model):
    read_as, table = client.predict(word="king", model=embedded_model, count=5, api_name="/nearest_tokens")

    expected = embeddings.nearest_tokens("king", embedded_model, 5)
    assert table["headers"] == ["token", "cosine"]
    assert [row[0] for row in table["data"]] == [n.token for n in expected.neighbours]
    assert [row[1] for row in table["data"]] == pytest.approx([n.cosine for n in expected.neighbours], abs=1e-4)
    assert read_as.startswith("'king' is read as 1 token, ' king'")


def test_embedding_map_answers_with_a_chart_one_row_per_word_and_the_share_it_keeps(client, embedded_model):
    chart, table, caption = client.predict(words="cat, dog, car, red, blue", model=embedded_model, api_name="/embedding_map")

    expected = embeddings.embedding_map("cat, dog, car, red, blue", embedded_model)
    assert table["headers"] == ["word", "tokens", "x", "y"]
    assert [row[0] for row in table["data"]] == ["cat", "dog", "car", "red", "blue"]
    assert [(row[2], row[3]) for row in table["data"]] == [pytest.approx(p, abs=1e-4) for p in expected.points]
    assert f"keep {sum(expected.explained):.0%} of how these words differ" in caption
    assert chart["type"] == "matplotlib" and chart["plot"].startswith("data:image/")


@pytest.mark.parametrize(
    ("api_name", "inputs", "message"),
    [
        ("nearest_tokens", ["cat", "", 0], f"count must be between 1 and {config.MAX_NEAREST_TOKENS}, got 0"),
        ("nearest_tokens", ["", "", 5], "word must not be empty"),
        ("nearest_tokens", [["cat"], "", 5], "word must be text, got a list"),
        ("embedding_map", ["cat", ""], f"words must hold between 2 and {config.MAX_MAP_WORDS} words, got 1"),
        ("embedding_map", [["cat", "dog"], ""], "words must be text, got a list"),
        ("embedding_map", ["cat, dog", "not a model!"], "model must be a local model folder or a hub id like 'org/name', got 'not a model!'"),
    ],
)
def test_bad_input_gets_a_message_naming_the_parameter(app, api_name, inputs, message):
    assert error_of(call_raw(app, api_name, json.dumps({"data": inputs}))) == message
