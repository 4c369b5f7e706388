import pytest
import torch

from playground.text.sampling import (
    NextTokenScores,
    SamplingSettings,
    draw_number,
    next_token_distribution,
    nucleus_mask,
    pick_token,
    penalize_repetition,
    sampling_probabilities,
    temperature_probabilities,
)

LOGITS = torch.tensor([3.0, 2.0, 1.0, 0.5, -1.0])


@pytest.mark.parametrize("temperature", [0.3, 1.0, 1.7])
def test_temperature_probabilities_are_softmax_of_scaled_logits(temperature):
    expected = torch.exp(LOGITS / temperature) / torch.exp(LOGITS / temperature).sum()
    assert torch.allclose(temperature_probabilities(LOGITS, temperature), expected)


def test_temperature_zero_puts_all_mass_on_the_most_likely_token():
    assert temperature_probabilities(LOGITS, 0).tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]


def test_low_temperature_sharpens_and_high_temperature_flattens():
    at_one = temperature_probabilities(LOGITS, 1.0)
    assert temperature_probabilities(LOGITS, 0.5)[0] > at_one[0] > temperature_probabilities(LOGITS, 1.5)[0]


def test_nucleus_keeps_the_smallest_set_reaching_top_p():
    probabilities = torch.tensor([0.5, 0.3, 0.15, 0.05])
    assert nucleus_mask(probabilities, 0.5).tolist() == [True, False, False, False]
    assert nucleus_mask(probabilities, 0.6).tolist() == [True, True, False, False]
    assert nucleus_mask(probabilities, 1.0).tolist() == [True, True, True, True]
    assert nucleus_mask(torch.tensor([0.1, 0.6, 0.3]), 0.7).tolist() == [False, True, True]


def test_top_k_and_top_p_leave_a_renormalised_distribution():
    probabilities = sampling_probabilities(LOGITS, SamplingSettings(temperature=1.0, top_k=3, top_p=1.0))
    assert (probabilities[3:] == 0).all() and probabilities.sum().item() == pytest.approx(1.0)
    assert (sampling_probabilities(LOGITS, SamplingSettings(temperature=1.0, top_p=0.1)) > 0).sum() == 1


def test_repetition_penalty_lowers_only_the_tokens_already_seen():
    penalized = penalize_repetition(LOGITS, torch.tensor([0, 4]), 2.0)
    assert penalized.tolist() == [1.5, 2.0, 1.0, 0.5, -2.0]


def test_a_number_draws_the_token_whose_band_holds_it():
    probabilities = torch.tensor([0.1, 0.6, 0.3])  # most likely first: 1 holds [0, 0.6), 2 [0.6, 0.9), 0 [0.9, 1)
    assert [pick_token(probabilities, n) for n in (0.0, 0.59, 0.61, 0.89, 0.91, 0.999999)] == [1, 1, 2, 2, 0, 0]
    assert pick_token(torch.tensor([0.5, 0.5, 0.0]), 0.9999999) == 1  # never a token of probability 0


def test_draw_numbers_depend_on_the_seed_and_the_step_only():
    numbers = [draw_number(7, step) for step in range(50)]
    assert numbers == [draw_number(7, step) for step in range(50)]
    assert numbers != [draw_number(8, step) for step in range(50)]
    assert all(0 <= n < 1 for n in numbers) and len(set(numbers)) == 50


@pytest.mark.parametrize("top_p", [0.05, 0.5, 0.9, 0.999])
def test_nucleus_mask_equals_the_sorted_definition_on_flat_and_peaked_distributions(top_p):
    for scale in (0.1, 1.0, 8.0):  # flat distributions need far more than the first 64 tokens
        probabilities = torch.softmax(torch.randn(5000, generator=torch.Generator().manual_seed(3)) * scale, -1)
        ordered, order = probabilities.sort(descending=True)
        expected = torch.zeros(5000, dtype=torch.bool)
        expected[order[(ordered.cumsum(-1) - ordered) < top_p]] = True
        assert torch.equal(nucleus_mask(probabilities, top_p), expected)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("temperature", float("nan"), "temperature must be a finite number"),
        ("temperature", -0.1, "temperature must be between 0 and 2, got -0.1"),
        ("temperature", 2.5, "temperature must be between 0 and 2, got 2.5"),
        ("top_p", 0.0, "top_p must be greater than 0 and at most 1, got 0.0"),
        ("top_p", 1.5, "top_p must be greater than 0 and at most 1, got 1.5"),
        ("top_k", -1, "top_k must be between 0 and 100, got -1"),
        ("max_new_tokens", 0, "max_new_tokens must be between 1 and 1024, got 0"),
        ("max_new_tokens", 10_000, "max_new_tokens must be between 1 and 1024, got 10000"),
        ("repetition_penalty", 0.0, "repetition_penalty must be greater than 0"),
        ("seed", -3, "seed must be between 0 and 4294967295, got -3"),
        ("seed", 1.5, "seed must be a whole number, got 1.5"),
        ("seed", "7", "seed must be a number, got '7'"),
    ],
)
def test_settings_reject_values_outside_their_limits(field, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        SamplingSettings(**{field: value})


def test_distribution_lists_top_k_candidates_with_both_temperatures():
    scores = NextTokenScores([], ["a", "b", "c", "d", "e"], LOGITS, complete=True)
    candidates = next_token_distribution(scores, temperature=0.5, top_k=3, top_p=0.9)
    assert [c.token for c in candidates] == ["a", "b", "c"]
    assert [c.probability for c in candidates] == pytest.approx(torch.softmax(LOGITS, -1)[:3].tolist())
    assert [c.probability_at_temperature for c in candidates] == pytest.approx(torch.softmax(LOGITS / 0.5, -1)[:3].tolist())
    assert [c.in_top_p for c in candidates] == [True, True, False]


def test_distribution_at_temperature_zero_keeps_only_the_argmax():
    scores = NextTokenScores([], ["a", "b", "c", "d", "e"], LOGITS, complete=True)
    candidates = next_token_distribution(scores, temperature=0, top_k=0, top_p=1.0)
    assert [c.probability_at_temperature for c in candidates] == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert [c.in_top_p for c in candidates] == [True, False, False, False, False]
