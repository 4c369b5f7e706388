"""The Text tab's embeddings view: a word's nearest tokens in the model's input embedding space, and a 2-D map of
a few words, so that a learner sees "cat", "dog" and "car" fall where their use puts them."""

import gradio as gr
import pandas as pd
from matplotlib.figure import Figure

from playground import config
from playground.text import embeddings
from playground.ui.common import finished, new_chart, show_errors

NEAREST_HEADERS = ["token", "cosine"]
MAP_HEADERS = ["word", "tokens", "x", "y"]
DEFAULT_MAP_WORDS = "cat, dog, horse, car, bus, train, red, blue, green, happy, sad"

EXPLANATION = """
**An embedding is the row of numbers the model reads for a token**: its first step turns every token into a
vector (576 numbers for SmolLM2-135M), learned in training. Tokens used in similar sentences end up pointing in
similar directions, so nearness here reflects how words are *used*: "cat" lands near "dog" and "pet".
**Cosine similarity** measures that: 1 = the same direction, 0 = unrelated.
The **map** squeezes the vectors of a few words from hundreds of dimensions into the 2 along which they differ
most (PCA): words close on the map are often close in the model, but the flattening hides the rest, so the map is a
hint and the nearest-token table the measurement. Local models only: an OpenAI server does not expose its model's
embeddings.
"""


def _quoted(tokens: list[str]) -> str:
    return ", ".join(map(repr, tokens))


def _read_as(result: embeddings.NearestTokens) -> str:
    if len(result.tokens) == 1:
        return f"{result.word!r} is read as 1 token, {_quoted(result.tokens)}: its vector is that token's row."
    return (f"{result.word!r} is read as {len(result.tokens)} tokens, {_quoted(result.tokens)}: its vector is the mean "
            "of their rows, a rough stand-in for words the model reads in pieces.")


@show_errors
def nearest_tokens(word: str, model: str, count: int) -> tuple[str, pd.DataFrame]:
    """How the word is read, and the tokens nearest it by cosine similarity, most similar first."""
    result = embeddings.nearest_tokens(word, model, count)
    rows = [[n.token, round(n.cosine, 4)] for n in result.neighbours]
    return _read_as(result), pd.DataFrame(rows, columns=NEAREST_HEADERS)


def _chart(result: embeddings.EmbeddingMap) -> Figure:
    """The words as labelled points, the same scale on both axes so that distances are not stretched."""
    figure, axes = new_chart(6, 5)
    xs, ys = zip(*result.points)
    axes.scatter(xs, ys, color="#4f46e5")
    for word, (x, y) in zip(result.words, result.points):
        axes.annotate(word, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=9)
    axes.set_aspect("equal", adjustable="datalim")
    axes.set_xlabel(f"axis 1 ({result.explained[0]:.0%} of the differences)")
    axes.set_ylabel(f"axis 2 ({result.explained[1]:.0%})")
    axes.set_title(f"Input embeddings of {result.model}:\n{result.dimensions} dimensions projected to 2 (PCA)", fontsize=9)
    return finished(figure)


@show_errors
def embedding_map(words: str, model: str) -> tuple[Figure, pd.DataFrame, str]:
    """The words on a 2-D PCA map, their coordinates, and how much of their differences the map keeps."""
    result = embeddings.embedding_map(embeddings.split_words(words), model)  # a text, as the page sends it
    rows = [[w, _quoted(t), round(x, 4), round(y, 4)] for w, t, (x, y) in zip(result.words, result.tokens, result.points)]
    kept = sum(result.explained)
    caption = (f"The two axes keep {kept:.0%} of how these words differ ({result.explained[0]:.0%} + "
               f"{result.explained[1]:.0%}); the other {result.dimensions - 2} dimensions are flattened onto the page.")
    return _chart(result), pd.DataFrame(rows, columns=MAP_HEADERS), caption


def build_embeddings_view(model: gr.Dropdown) -> None:
    """Lay out the view inside the current Blocks context; model is the Text tab's model dropdown."""
    gr.Markdown(EXPLANATION)
    with gr.Row():
        with gr.Column():
            word = gr.Textbox("cat", label="Word", max_length=config.MAX_EMBEDDING_WORD_CHARS, elem_id="embeddings-word")
            count = gr.Slider(1, config.MAX_NEAREST_TOKENS, value=config.DEFAULT_NEAREST_TOKENS, step=1, label="Neighbours")
            nearest = gr.Button("Nearest tokens", elem_id="embeddings-nearest")
            read_as = gr.Textbox(label="How the model reads it", interactive=False, elem_id="embeddings-read-as")
            table = gr.Dataframe(headers=NEAREST_HEADERS, label="Nearest tokens", interactive=False, max_height=400, elem_id="embeddings-table")
        with gr.Column():
            words = gr.Textbox(DEFAULT_MAP_WORDS, label="Words, separated by commas", info=f"2 to {config.MAX_MAP_WORDS}", elem_id="embeddings-words")
            draw = gr.Button("Map", elem_id="embeddings-draw")
            chart = gr.Plot(label="Map", elem_id="embeddings-map")
            caption = gr.Textbox(label="What the map keeps", interactive=False, elem_id="embeddings-caption")
            points = gr.Dataframe(headers=MAP_HEADERS, label="Coordinates", interactive=False, max_height=300)

    gr.on([nearest.click, word.submit], nearest_tokens, [word, model, count], [read_as, table], api_name="nearest_tokens", preprocess=False)
    gr.on([draw.click, words.submit], embedding_map, [words, model], [chart, points, caption], api_name="embedding_map", preprocess=False)
