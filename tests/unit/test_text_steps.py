"""The generation loop one step at a time, on the tiny model through the real loading code: stepping makes exactly
the text Generate makes, each token's recorded probability is the one it was drawn with, and a reply can be
continued from any of its tokens."""

import dataclasses

import pytest
import torch

from playground import config, text
from playground.text import local
from playground.text.sampling import SamplingSettings

PROMPT = "hello the cat"
SETTINGS = [
    SamplingSettings(temperature=1.3, seed=4, max_new_tokens=12),
    SamplingSettings(temperature=0.9, top_p=0.6, seed=9, max_new_tokens=12),
    SamplingSettings(temperature=1.0, top_k=4, repetition_penalty=1.4, seed=2, max_new_tokens=12),
    SamplingSettings(temperature=1.1, top_k=6, top_p=0.7, seed=8, max_new_tokens=12),
    SamplingSettings(temperature=0, repetition_penalty=1.2, max_new_tokens=12),
]


def generated(model_dir, settings: SamplingSettings, reply: list[int] = ()) -> local.TextStream:
    stream = text.stream_text(PROMPT, "local", str(model_dir), "", settings, reply_token_ids=reply)
    stream.pieces = iter([stream.text()])
    return stream


def stepped(model_dir, settings: SamplingSettings) -> tuple[list[int], list[local.ReplyStep]]:
    """Step until the model ends its reply or max_new_tokens steps are taken, like Generate."""
    ids, steps = [], []
    for _ in range(settings.max_new_tokens):
        step = text.step(PROMPT, str(model_dir), "", settings, ids)
        steps.append(step)
        if step.ends_reply:
            break
        ids.append(step.step.token.token_id)
    return ids, steps


def reference_probabilities(logits: torch.Tensor, previous: list[int], settings: SamplingSettings) -> torch.Tensor:
    """The sampling distribution written out from its definition, apart from the app's code: penalty, softmax(l / T),
    the k most likely, then the top-p nucleus of those (renormalised, as transformers does) by a full sort."""
    logits = logits.clone()
    for token in set(previous):
        logits[token] = logits[token] / settings.repetition_penalty if logits[token] > 0 else logits[token] * settings.repetition_penalty
    if settings.temperature == 0:
        return torch.nn.functional.one_hot(logits.argmax(), logits.shape[0]).float()
    probabilities = torch.softmax(logits / settings.temperature, -1)
    ordered, order = probabilities.sort(descending=True)
    if settings.top_k:
        ordered = torch.where(ordered >= ordered[min(settings.top_k, len(ordered)) - 1], ordered, 0.0)
    ordered = ordered / ordered.sum()
    keep = (ordered > 0) & ((ordered.cumsum(-1) - ordered) < settings.top_p)
    kept = torch.zeros_like(probabilities)
    kept[order[keep]] = probabilities[order[keep]]
    return kept / kept.sum()


@pytest.mark.parametrize("settings", SETTINGS)
def test_stepping_makes_exactly_the_text_generate_makes(tiny_model_dir, settings):
    stream = generated(tiny_model_dir, settings)
    ids, steps = stepped(tiny_model_dir, settings)

    assert ids == [s.token.token_id for s in stream.steps]
    assert (steps[-1].ends_reply) == (stream.finish_reason == "stop")
    assert steps[-1].reply_text.startswith(stream.text()) and len(ids) > 3
    for step, recorded in zip(steps, stream.steps):
        assert step.step.probability == recorded.probability and step.step.number == recorded.number


@pytest.mark.parametrize("settings", SETTINGS)
def test_each_recorded_probability_is_the_one_the_token_was_drawn_with(tiny_model_dir, settings):
    stream = generated(tiny_model_dir, settings)
    lm = local.load_model(str(tiny_model_dir))
    prompt_ids = local.input_ids(lm, local.chat_messages(PROMPT, "")).tolist()
    reply = [s.token.token_id for s in stream.steps]
    with torch.no_grad():
        all_logits = lm.model(torch.tensor([prompt_ids + reply])).logits[0].float()
    for index, step in enumerate(stream.steps):
        previous = reply[:index]  # the penalty counts the reply's own tokens
        position = len(prompt_ids) + index - 1
        expected = reference_probabilities(all_logits[position], previous, settings)
        assert step.probability == pytest.approx(float(expected[step.token.token_id]), abs=1e-5)
        assert step.probability > 0
        at_one = reference_probabilities(
            all_logits[position], previous,
            SamplingSettings(temperature=1.0, top_p=1.0, repetition_penalty=settings.repetition_penalty),
        )
        candidates = [c.token_id for c in step.candidates]
        assert [c.probability for c in step.candidates] == pytest.approx(at_one[candidates].tolist(), abs=1e-5)
        assert [c.probability for c in step.candidates] == sorted((c.probability for c in step.candidates), reverse=True)
        assert len(step.candidates) == max(config.DEFAULT_VIEW_CANDIDATES, settings.top_k) or len(step.candidates) == len(lm.tokenizer)
        assert (step.number is None) == (settings.temperature == 0)


def test_a_reply_continued_from_one_of_its_tokens_ends_as_the_whole_reply_did(tiny_model_dir):
    settings = SamplingSettings(temperature=1.2, top_p=1.0, repetition_penalty=1.0, seed=11, max_new_tokens=12)
    whole = generated(tiny_model_dir, settings)
    reply = [s.token.token_id for s in whole.steps]
    continued = generated(tiny_model_dir, dataclasses.replace(settings, max_new_tokens=12 - 5), reply[:5])

    assert [s.token.token_id for s in continued.steps] == reply[5:]
    lm = local.load_model(str(tiny_model_dir))
    assert lm.tokenizer.decode(reply[:5]) + continued.text() == whole.text()


def test_a_chosen_token_is_taken_instead_of_a_drawn_one(tiny_model_dir):
    settings = SamplingSettings(temperature=0.8, top_p=1.0, repetition_penalty=1.0, seed=1)
    drawn = text.step(PROMPT, str(tiny_model_dir), "", settings, [])
    other = drawn.step.candidates[3]

    chosen = text.step(PROMPT, str(tiny_model_dir), "", settings, [], chosen=other.token_id)

    assert chosen.step.token.token_id == other.token_id and chosen.step.number is None
    assert chosen.step.candidates == drawn.step.candidates
    assert chosen.reply_text == other.token


def test_the_next_step_runs_the_model_on_one_token_only(tiny_model_dir, monkeypatch):
    settings = SamplingSettings(temperature=1.0, seed=3)
    first = text.step(PROMPT, str(tiny_model_dir), "", settings, [])
    lengths = []
    forward = local._forward
    monkeypatch.setattr(local, "_forward", lambda lm, ids, cache: lengths.append(len(ids)) or forward(lm, ids, cache))

    text.step(PROMPT, str(tiny_model_dir), "", settings, [first.step.token.token_id])

    assert lengths == [1]


def test_continuing_from_a_stepped_token_reuses_the_steps_state(tiny_model_dir, monkeypatch):
    settings = SamplingSettings(temperature=1.0, seed=3, max_new_tokens=2)
    first = text.step(PROMPT, str(tiny_model_dir), "", settings, [])
    lengths = []
    forward = local._forward
    monkeypatch.setattr(local, "_forward", lambda lm, ids, cache: lengths.append(len(ids)) or forward(lm, ids, cache))

    generated(tiny_model_dir, settings, [first.step.token.token_id])

    assert lengths and all(length == 1 for length in lengths)  # the prompt is not read again


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reply_token_ids": "1, 2"}, "reply_token_ids must be a list of token ids, got str"),
        ({"reply_token_ids": [3, "x"]}, "reply_token_ids[1] must be a number, got 'x'"),
        ({"reply_token_ids": [3, 10**6]}, "reply_token_ids[1] must be between 0 and {last}, got 1000000"),
        ({"reply_token_ids": [3] * (config.MAX_NEW_TOKENS + 1)}, f"reply_token_ids holds {config.MAX_NEW_TOKENS + 1} tokens, the limit is {config.MAX_NEW_TOKENS}"),
        ({"chosen": -2}, "chosen must be between 0 and {last}, got -2"),
        ({"reply_token_ids": [3] * 90}, "prompt is too long for"),
    ],
)
def test_steps_refuse_bad_replies_and_choices_naming_the_parameter(tiny_model_dir, kwargs, message):
    last = len(local.load_model(str(tiny_model_dir)).tokenizer) - 1
    with pytest.raises(ValueError) as refused:
        text.step(PROMPT, str(tiny_model_dir), "", SamplingSettings(), **kwargs)
    assert message.format(last=last) in str(refused.value)


def test_only_the_local_backend_continues_a_reply(tiny_model_dir):
    with pytest.raises(ValueError, match="reply_token_ids: continuing a reply from one of its tokens needs the local backend"):
        text.stream_text(PROMPT, "openai", "gpt-4o-mini", "", SamplingSettings(), reply_token_ids=[3])


@pytest.mark.embedded
def test_the_embedded_model_records_the_probabilities_it_draws_with(embedded_model):
    """Replayed the way generation runs it (the prompt at once, then one token at a time), so fast_llama rounds alike."""
    from transformers import DynamicCache

    settings = SamplingSettings(temperature=0.8, top_p=0.9, top_k=40, repetition_penalty=1.2, seed=5, max_new_tokens=24)
    stream = text.stream_text("Explain what a GAN is in two sentences.", "local", embedded_model, "", settings)
    stream.text()
    lm = local.load_model(embedded_model)
    prompt_ids = local.input_ids(lm, local.chat_messages("Explain what a GAN is in two sentences.", "")).tolist()
    cache = DynamicCache(config=lm.model.config)
    with torch.inference_mode():
        logits = lm.model(torch.tensor([prompt_ids]), past_key_values=cache).logits[0, -1].float()
        previous = []  # the penalty counts the reply's own tokens
        for step in stream.steps:
            expected = reference_probabilities(logits, previous, settings)
            # tokens of equal score are interchangeable at a cut-off (penalised scores do tie): either may be the kept one
            tied = logits == logits[step.token.token_id]
            assert step.probability == pytest.approx(float(expected[tied].max()), abs=1e-6)
            previous.append(step.token.token_id)
            logits = lm.model(torch.tensor([[step.token.token_id]]), past_key_values=cache).logits[0, -1].float()
    assert len(stream.steps) > 10
