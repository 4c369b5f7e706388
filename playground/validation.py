"""Checks for values that arrive from the UI, the HTTP API or the command line.

Each helper returns the value in its canonical type or raises ValueError naming the parameter,
the value and what is allowed: the HTTP API bypasses the UI's sliders, so these are the real limits.
"""

import math
from collections.abc import Sequence
from numbers import Real

from playground import config


def _number(name: str, value: object, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number {allowed}, got {value!r}")
    return float(value)


def check_range(
    name: str, value: object, low: float, high: float, *, low_inclusive: bool = True
) -> float:
    """A finite number in [low, high] (or (low, high] when low_inclusive is False)."""
    allowed = f"between {low:g} and {high:g}" if low_inclusive else f"greater than {low:g} and at most {high:g}"
    number = _number(name, value, allowed)
    above_low = number >= low if low_inclusive else number > low
    if not (above_low and number <= high):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return number


def check_int(name: str, value: object, low: int, high: int) -> int:
    """A whole number in [low, high]; 3.0 is accepted as 3, 3.5 is not."""
    number = _number(name, value, f"between {low} and {high}")
    if not number.is_integer():
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")
    return int(number)


def check_token_ids(name: str, value: object, vocabulary: int, max_tokens: int, *, required: bool = True) -> list[int]:
    """A list (or tuple) of at most max_tokens token ids, each in [0, vocabulary); empty only when not required."""
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name} must be a list of token ids, got {json_type(value)}")
    if required and not value:
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_tokens:
        raise ValueError(f"{name} holds {len(value)} tokens, the limit is {max_tokens}")
    return [check_int(f"{name}[{i}]", token, 0, vocabulary - 1) for i, token in enumerate(value)]


def json_type(value: object) -> str:
    """The JSON name of a value's type, as an HTTP caller wrote it."""
    names = {type(None): "null", bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def check_text(name: str, value: object, max_chars: int, *, required: bool = True) -> str:
    """A string of at most max_chars characters, valid Unicode; empty (or only spaces) only when not required.

    A lone surrogate ("\\ud800" in JSON) is not text: tokenizers and encoders fail on it, so it is refused here.
    """
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, got {json_type(value)}")
    if required and not value.strip():
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_chars:
        raise ValueError(f"{name} is too long: {len(value)} characters, the limit is {max_chars}")
    at = lone_surrogate(value)
    if at is not None:
        raise ValueError(f"{name} holds invalid text: a lone surrogate ({value[at]!r}) at character {at}; "
                         "send valid UTF-8 text")
    return value


def lone_surrogate(value: str) -> int | None:
    """Where value holds a lone surrogate ("\\ud800" alone in JSON), which no tokenizer or reply can hold; else None."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        return error.start
    return None


def check_offered_model(name: str, offered: Sequence[str]) -> str:
    """In public mode only a model the operator offers (no local folder, no other hub id); any model otherwise."""
    if config.PUBLIC and name not in offered:
        raise ValueError(f"model {name!r} is not offered on this public server; models: {', '.join(offered)}")
    return name


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """One of the allowed strings."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)
