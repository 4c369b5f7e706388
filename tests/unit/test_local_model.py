"""The local backend on a tiny model the tests build, loaded through the real from_pretrained path."""

import time

import pytest
import torch

from playground import config, registry
from playground.text import local
from playground.text.sampling import SamplingSettings, next_token_distribution


def generate(model_dir, prompt="hello the cat", **settings) -> local.TextStream:
    stream = local.stream_text(prompt, str(model_dir), "", SamplingSettings(**settings))
    stream.pieces = iter(list(stream.pieces))
    return stream


def test_same_seed_gives_the_same_text_and_other_seeds_differ(tiny_model_dir):
    first = generate(tiny_model_dir, temperature=1.2, seed=5, max_new_tokens=15).text()
    assert first == generate(tiny_model_dir, temperature=1.2, seed=5, max_new_tokens=15).text()
    others = {generate(tiny_model_dir, temperature=1.2, seed=s, max_new_tokens=15).text() for s in range(6, 10)}
    assert others - {first}


def test_temperature_zero_is_greedy_like_transformers_generate(tiny_model_dir):
    lm = local.load_model(str(tiny_model_dir))
    ids = local.input_ids(lm, local.chat_messages("hello the cat", ""))
    expected = lm.model.generate(ids[None], do_sample=False, max_new_tokens=10, min_new_tokens=10, pad_token_id=0)
    ours = [local.stream_text("hello the cat", str(tiny_model_dir), "", SamplingSettings(temperature=0, seed=s, max_new_tokens=10)) for s in (1, 2)]
    texts = {stream.text() for stream in ours}
    assert texts == {lm.tokenizer.decode(expected[0, len(ids):], skip_special_tokens=True)}


def test_text_streams_in_pieces_within_max_new_tokens(tiny_model_dir):
    streams = [
        local.stream_text("the red apple", str(tiny_model_dir), "", SamplingSettings(temperature=1.0, seed=s, max_new_tokens=7))
        for s in range(8)
    ]
    pieces = [list(stream) for stream in streams]
    assert max(len(p) for p in pieces) > 1
    for stream, stream_pieces in zip(streams, pieces):
        assert all(stream_pieces) and len(stream_pieces) <= stream.completion_tokens <= 7
        assert stream.finish_reason == ("length" if stream.completion_tokens == 7 else "stop")


def test_next_token_probabilities_equal_softmax_of_the_model_logits(tiny_model_dir):
    lm = local.load_model(str(tiny_model_dir))
    scores = local.next_token_scores("what colour is the sky?", str(tiny_model_dir), "be brief")
    ids = local.input_ids(lm, local.chat_messages("what colour is the sky?", "be brief"))
    with torch.no_grad():
        logits = lm.model(ids[None]).logits[0, -1]
    for temperature in (0.4, 1.0, 1.9):
        candidates = next_token_distribution(scores, temperature, top_k=5, top_p=1.0)
        expected = torch.softmax(logits / temperature, -1).sort(descending=True).values[:5]
        assert [c.probability_at_temperature for c in candidates] == pytest.approx(expected.tolist(), abs=1e-6)
    assert [t for t, _ in scores.prompt_tokens][:3] == ["<|im_start|>", "system", "\n"]
    assert scores.prompt_tokens[0][1] is True and scores.prompt_tokens[1][1] is False


def test_a_prompt_longer_than_the_model_context_is_refused(tiny_model_dir):
    with pytest.raises(ValueError, match=r"prompt is too long for .*: \d+ tokens \+ max_new_tokens 50 exceed its context of 96 tokens"):
        local.stream_text("the cat sat on the mat " * 8, str(tiny_model_dir), "", SamplingSettings(max_new_tokens=50))


def test_a_missing_folder_that_is_no_hub_id_is_refused(tmp_path):
    with pytest.raises(ValueError, match="model must be a local model folder or a hub id"):
        local.load_model(str(tmp_path / "no" / "such" / "folder"))


def test_a_folder_without_a_model_gives_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="has no config.json"):
        local.load_model(str(tmp_path))
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(ValueError, match="could not be loaded as a causal language model: "):
        local.load_model(str(tmp_path))


def test_a_hub_id_that_cannot_be_fetched_fails_fast_and_the_default_stays_usable(tiny_model_dir, monkeypatch):
    monkeypatch.setattr(config, "HUB_TIMEOUT_S", 2.0)
    begin = time.monotonic()
    with pytest.raises(ValueError, match="generative-playground-tests/no-such-model"):
        local.load_model("generative-playground-tests/no-such-model")
    assert time.monotonic() - begin < 5
    assert generate(tiny_model_dir, temperature=0, max_new_tokens=3).completion_tokens >= 0


def test_models_load_once_and_are_reused(tiny_model_dir):
    registry.clear()
    assert local.load_model(str(tiny_model_dir)) is local.load_model(str(tiny_model_dir))
