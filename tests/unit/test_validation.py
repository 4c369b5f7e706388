import math

import pytest

from playground.validation import check_choice, check_int, check_range, check_text


def test_range_error_names_parameter_value_and_bounds():
    with pytest.raises(ValueError, match=r"^temperature must be between 0 and 2, got 5.0$"):
        check_range("temperature", 5.0, 0, 2)


def test_exclusive_lower_bound_is_stated():
    with pytest.raises(ValueError, match=r"top_p must be greater than 0 and at most 1, got 0"):
        check_range("top_p", 0, 0, 1, low_inclusive=False)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_rejected(value):
    with pytest.raises(ValueError, match="temperature must be a finite number"):
        check_range("temperature", value, 0, 2)


@pytest.mark.parametrize("value", ["1", None, True, [1]])
def test_non_numbers_are_rejected(value):
    with pytest.raises(ValueError, match="temperature must be a number"):
        check_range("temperature", value, 0, 2)


def test_whole_floats_count_as_integers_but_fractions_do_not():
    assert check_int("seed", 3.0, 0, 10) == 3
    with pytest.raises(ValueError, match="seed must be a whole number, got 3.5"):
        check_int("seed", 3.5, 0, 10)
    with pytest.raises(ValueError, match="seed must be between 0 and 10, got -1"):
        check_int("seed", -1, 0, 10)


def test_text_must_be_present_and_short_enough():
    assert check_text("prompt", "hi", 5) == "hi"
    assert check_text("system_prompt", "", 5, required=False) == ""
    with pytest.raises(ValueError, match="prompt must not be empty"):
        check_text("prompt", "   ", 5)
    with pytest.raises(ValueError, match="prompt is too long: 6 characters, the limit is 5"):
        check_text("prompt", "x" * 6, 5)
    with pytest.raises(ValueError, match="prompt must be text"):
        check_text("prompt", 12, 5)


@pytest.mark.parametrize(("value", "kind"), [(None, "null"), (0, "a number"), ([], "a list"), ({}, "an object"), (True, "a boolean")])
def test_text_that_is_not_a_string_is_refused_even_where_empty_is_allowed(value, kind):
    with pytest.raises(ValueError, match=f"^model must be text, got {kind}$"):
        check_text("model", value, 5, required=False)


def test_a_lone_surrogate_is_refused_naming_the_parameter():
    with pytest.raises(ValueError, match=r"^system_prompt holds invalid text: a lone surrogate \('\\ud800'\) at character 1"):
        check_text("system_prompt", "x\ud800y", 10, required=False)


def test_choice_lists_the_allowed_values():
    with pytest.raises(ValueError, match="backend must be one of 'local', 'openai', got 'x'"):
        check_choice("backend", "x", ("local", "openai"))
