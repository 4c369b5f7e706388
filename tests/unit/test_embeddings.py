"""Words as vectors (playground/text/embeddings.py): nearest tokens by cosine and the PCA map, on the tiny model the
tests build (word-level tokens, no leading spaces) and on the embedded SmolLM2 (byte-level BPE, run as FastLlama)."""

import re

import pytest
import torch
import torch.nn.functional as F

from playground import config
from playground.text import embeddings, local

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def brute_force_nearest(matrix: torch.Tensor, vector: torch.Tensor, allowed: list[bool], count: int) -> list[tuple[int, float]]:
    """(token id, cosine) of the count allowed rows most similar to vector, computed row by row in float64."""
    vector = vector.double()
    cosines = [(i, float(row.double() @ vector / (row.double().norm() * vector.norm())))
               for i, row in enumerate(matrix) if allowed[i]]
    return sorted(cosines, key=lambda pair: -pair[1])[:count]


def test_nearest_tokens_are_the_word_like_tokens_of_highest_cosine_without_the_word_itself(tiny_model_dir):
    lm = local.load_model(str(tiny_model_dir))
    matrix = lm.model.get_input_embeddings().weight.detach()
    cat = lm.tokenizer.convert_tokens_to_ids("cat")
    special = set(lm.tokenizer.all_special_ids)
    allowed = [lm.tokenizer.decode([i]).isalpha() and i not in special and i != cat for i in range(len(matrix))]

    result = embeddings.nearest_tokens("cat", str(tiny_model_dir), count=6)

    expected = brute_force_nearest(matrix, matrix[cat], allowed, 6)
    assert result.tokens == ["cat"]
    assert [n.token for n in result.neighbours] == [lm.tokenizer.decode([i]) for i, _ in expected]
    assert [n.cosine for n in result.neighbours] == pytest.approx([c for _, c in expected], abs=1e-5)
    cosines = [n.cosine for n in result.neighbours]
    assert cosines == sorted(cosines, reverse=True)
    assert "cat" not in [n.token for n in result.neighbours]


def test_a_word_of_several_tokens_is_the_mean_of_their_rows_and_none_of_them_is_its_neighbour(tiny_model_dir):
    lm = local.load_model(str(tiny_model_dir))
    matrix = lm.model.get_input_embeddings().weight.detach()
    ids = lm.tokenizer.convert_tokens_to_ids(["red", "apple"])
    special = set(lm.tokenizer.all_special_ids)
    allowed = [lm.tokenizer.decode([i]).isalpha() and i not in special and i not in ids for i in range(len(matrix))]

    result = embeddings.nearest_tokens("  red apple ", str(tiny_model_dir), count=config.MAX_NEAREST_TOKENS)

    assert result.word == "red apple" and result.tokens == ["red", "apple"]
    expected = brute_force_nearest(matrix, matrix[ids].mean(0), allowed, config.MAX_NEAREST_TOKENS)
    assert len(result.neighbours) == sum(allowed)  # fewer candidates than asked for: all of them
    assert [n.token for n in result.neighbours] == [lm.tokenizer.decode([i]) for i, _ in expected]
    assert [n.cosine for n in result.neighbours] == pytest.approx([c for _, c in expected], abs=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"word": ""}, "word must not be empty"),
        ({"word": "x" * (config.MAX_EMBEDDING_WORD_CHARS + 1)},
         f"word is too long: {config.MAX_EMBEDDING_WORD_CHARS + 1} characters, the limit is {config.MAX_EMBEDDING_WORD_CHARS}"),
        ({"word": 5}, "word must be text, got a number"),
        ({"word": "zebra"}, "word: 'zebra' is not in the vocabulary of model {model}: its tokenizer reads it as the unknown token '<unk>'"),
        ({"count": 0}, f"count must be between 1 and {config.MAX_NEAREST_TOKENS}, got 0"),
        ({"count": config.MAX_NEAREST_TOKENS + 1},
         f"count must be between 1 and {config.MAX_NEAREST_TOKENS}, got {config.MAX_NEAREST_TOKENS + 1}"),
        ({"count": 2.5}, "count must be a whole number, got 2.5"),
    ],
)
def test_nearest_tokens_refuses_bad_input_naming_the_parameter(tiny_model_dir, kwargs, message):
    arguments = {"word": "cat", "model": str(tiny_model_dir), "count": 3} | kwargs
    with pytest.raises(ValueError, match=f"^{re.escape(message.format(model=repr(str(tiny_model_dir))))}$"):
        embeddings.nearest_tokens(**arguments)


def test_the_map_has_one_point_per_word_and_the_same_word_lands_on_the_same_point(tiny_model_dir):
    result = embeddings.embedding_map("cat, dog, cat, red, sky", str(tiny_model_dir))

    assert result.words == ["cat", "dog", "cat", "red", "sky"] and len(result.points) == 5
    assert result.points[0] == pytest.approx(result.points[2], abs=1e-6)
    assert result.points[0] != pytest.approx(result.points[1], abs=1e-3)
    assert 0 < result.explained[1] <= result.explained[0] and sum(result.explained) <= 1 + 1e-6
    assert result.dimensions == 16 and result.model == str(tiny_model_dir)


def test_three_words_lie_in_a_plane_so_the_map_keeps_all_their_distances(tiny_model_dir):
    lm = local.load_model(str(tiny_model_dir))
    matrix = lm.model.get_input_embeddings().weight.detach()
    words = ["cat", "blue", "world"]
    unit = F.normalize(matrix[lm.tokenizer.convert_tokens_to_ids(words)].double(), dim=1)

    result = embeddings.embedding_map(words, str(tiny_model_dir))

    assert sum(result.explained) == pytest.approx(1, abs=1e-5)
    points = torch.tensor(result.points, dtype=torch.float64)
    assert torch.cdist(points, points) == pytest.approx(torch.cdist(unit, unit), abs=1e-5)


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("cat", f"words must hold between 2 and {config.MAX_MAP_WORDS} words, got 1"),
        (", cat, ,", f"words must hold between 2 and {config.MAX_MAP_WORDS} words, got 1"),
        (["cat"] * (config.MAX_MAP_WORDS + 1),
         f"words must hold between 2 and {config.MAX_MAP_WORDS} words, got {config.MAX_MAP_WORDS + 1}"),
        ("cat, cat", "words must hold at least 2 different words, got ['cat', 'cat']"),
        ("", "words must not be empty"),
        (7, "words must be text (words separated by commas) or a list of words, got a number"),
        (["cat", None], "words[1] must be text, got null"),
        (f"cat, {'x' * (config.MAX_EMBEDDING_WORD_CHARS + 1)}",
         f"words[1] is too long: {config.MAX_EMBEDDING_WORD_CHARS + 1} characters, the limit is {config.MAX_EMBEDDING_WORD_CHARS}"),
        ("cat, zebra", "words: 'zebra' is not in the vocabulary of model {model}"),
    ],
)
def test_the_map_refuses_bad_words_naming_the_parameter(tiny_model_dir, words, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message.format(model=repr(str(tiny_model_dir))))}"):
        embeddings.embedding_map(words, str(tiny_model_dir))


@pytest.mark.embedded
def test_on_smollm_dog_is_nearer_to_cat_than_car_is_in_the_space_and_on_the_map(embedded_model):
    lm = local.load_model(embedded_model)
    matrix = lm.model.embedding  # the bf16 matrix FastLlama reads
    cat, dog, car = (lm.tokenizer(" " + w, add_special_tokens=False)["input_ids"] for w in ("cat", "dog", "car"))
    assert len(cat) == len(dog) == len(car) == 1

    result = embeddings.nearest_tokens("cat", embedded_model, count=config.MAX_NEAREST_TOKENS)

    assert result.tokens == [" cat"]
    shown = {n.token: n.cosine for n in result.neighbours}
    cosine = {w: F.cosine_similarity(matrix[cat].float(), matrix[ids].float()).item() for w, ids in (("dog", dog), ("car", car))}
    assert shown[" dog"] == pytest.approx(cosine["dog"], abs=1e-5)
    assert cosine["car"] < cosine["dog"]
    assert " car" not in shown and cosine["car"] <= min(shown.values())  # left out where its cosine puts it
    assert all(token.startswith(" ") and token[1:].isalpha() for token in shown)  # whole words only
    assert {" cats", " dog", " pet", " kitten"} <= set(shown)

    drawn = embeddings.embedding_map("cat, dog, car, bus, red, blue", embedded_model)
    points = {word: torch.tensor(point) for word, point in zip(drawn.words, drawn.points)}
    assert (points["dog"] - points["cat"]).norm() < (points["car"] - points["cat"]).norm()
    assert (points["red"] - points["blue"]).norm() < (points["red"] - points["cat"]).norm()
    assert drawn.dimensions == matrix.shape[1]
