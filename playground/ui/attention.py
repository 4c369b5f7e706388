"""The attention view: for one token of a reply, how much the model attended to each earlier token, drawn as the
token strip shaded by weight, one layer (a slider) and the mean of its heads or one head at a time."""

from dataclasses import dataclass

import gradio as gr

from playground import config
from playground.text.attention import Attention, attention_weights
from playground.ui.common import show_errors, visible_token

MEAN_OF_HEADS = ("mean of all heads", -1)

HOW_IT_WORKS = """
**Attention.** Inside the model every token is a long list of numbers (a vector). In each layer, each token's
vector is updated by mixing in the vectors of the tokens before it — never those after it: the model cannot read
ahead. The *attention weights* say how much of each token goes into the mix; they add up to 1.

**What the strip shows.** The reply token you pick was chosen at the position just before it, so the strip shows
how much that position took from each token it could see: the darker, the more. The strongest token is fully
coloured and its weight is given above the strip.

**Layers and heads.** Each layer mixes again, starting from the vectors the layer below made. A layer has several
*heads* that mix separately, each with its own weights: different heads look for different relations (the
previous token, a word that matches, the start of the text). The mean of all heads is a summary; pick a head to
see it alone. Many heads put most of their weight on the very first token, a resting place when nothing else fits.

**A hint, not an explanation.** A map of attention weights hints at where the model looked, but it does not
explain its choice: what the mixed vectors carry, and what the later layers make of them, matter as much.
"""


@dataclass
class AttentionView:
    """The view's inputs that another part of the tab may fill: the reply's token ids and the token picked."""

    reply_token_ids: gr.JSON
    token_index: gr.Number
    show: gr.Button


def _drawn(attention: Attention, layer: object, head: object) -> tuple[list[tuple[str, float | None]], str, dict]:
    """The strip (weights scaled so the strongest token is fully coloured), a summary line, and the weights as JSON."""
    weights = attention.row(layer, head).tolist()
    strongest = max(weights)
    texts = [text for text, _ in attention.tokens]
    strip = [(visible_token(text), round(weight / strongest, 4)) for text, weight in zip(texts, weights)]
    strip.append((f" → {visible_token(attention.token)}", None))
    which = "the mean of all heads" if head == -1 else f"head {int(head)}"
    top = visible_token(texts[weights.index(strongest)])
    summary = (
        f"Layer {int(layer)}, {which}, while choosing **{visible_token(attention.token)}**: the strongest weight is "
        f"**{strongest:.3f}** (on `{top}`), drawn fully coloured; the others are shaded relative to it."
    )
    layers, heads, _ = attention.weights.shape
    data = {
        "tokens": texts,
        "weights": weights,
        "layer": int(layer),
        "head": int(head),
        "layers": layers,
        "heads": heads,
    }
    return strip, summary, data


@show_errors
def attention_view(
    prompt: str,
    reply_token_ids: list[int],
    token_index: int,
    layer: int,
    head: int,
    model: str,
    system_prompt: str,
) -> tuple[list[tuple[str, float | None]], str, dict, Attention]:
    """The attention of the position that chose reply token token_index, in layer (1 = first), for head (1 = first;
    -1: the mean of all heads): the strip, a summary, the weights as JSON, and all layers kept for the controls."""
    attention = attention_weights(prompt, reply_token_ids, token_index, model, system_prompt)
    return (*_drawn(attention, layer, head), attention)


@show_errors
def redraw(attention: Attention | None, layer: int, head: int):
    """Draw another layer or head from the kept weights: moving the slider never runs the model again."""
    if attention is None:
        return gr.skip(), gr.skip(), gr.skip()
    return _drawn(attention, layer, head)


def _controls(attention: Attention):
    """The layer slider and the head choices, shown, for the model that ran."""
    layers, heads, _ = attention.weights.shape
    choices = [MEAN_OF_HEADS] + [(f"head {h}", h) for h in range(1, heads + 1)]
    return gr.update(visible=True), gr.update(maximum=layers), gr.update(choices=choices)


def build_attention_view(prompt: gr.Textbox, model: gr.Dropdown, system_prompt: gr.Textbox) -> AttentionView:
    """Lay out the attention view inside the current Blocks context and wire its events."""
    with gr.Row():
        reply_token_ids = gr.JSON([], label="Reply token ids", elem_id="attention-reply-ids")
        token_index = gr.Number(0, precision=0, minimum=0, maximum=config.MAX_NEW_TOKENS - 1, label="Reply token (0 = the first)", elem_id="attention-token-index")
    show = gr.Button("Show attention", elem_id="attention-show")
    with gr.Row(visible=False) as controls:  # shown with the model's numbers of layers and heads once it has run
        layer = gr.Slider(1, 2, value=1, step=1, label="Layer", info="1 = the first, nearest the tokens", elem_id="attention-layer")
        head = gr.Dropdown([MEAN_OF_HEADS], value=-1, label="Head", elem_id="attention-head")
    summary = gr.Markdown(elem_id="attention-summary")
    strip = gr.HighlightedText(label="What the model looked at (darker = more weight)", show_legend=False, elem_id="attention-strip")
    with gr.Accordion("The weights as numbers", open=False):
        data = gr.JSON(label="Weights", elem_id="attention-data")
    with gr.Accordion("How it works", open=False):
        gr.Markdown(HOW_IT_WORKS)
    kept = gr.State(None, time_to_live=3600)  # all layers and heads: layers x heads x tokens floats

    show.click(
        attention_view,
        inputs=[prompt, reply_token_ids, token_index, layer, head, model, system_prompt],
        outputs=[strip, summary, data, kept],
        api_name="attention",
        preprocess=False,
    ).success(_controls, kept, [controls, layer, head], api_visibility="private")
    gr.on([layer.change, head.change], redraw, [kept, layer, head], [strip, summary, data], api_visibility="private", show_progress="hidden")
    return AttentionView(reply_token_ids, token_index, show)
