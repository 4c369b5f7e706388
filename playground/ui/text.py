"""The Text tab: a prompt, sampling settings, streamed output, and the next-token view that shows
how the temperature reshapes the model's probabilities."""

import json
import random
from collections.abc import Iterator

import gradio as gr
import pandas as pd
from matplotlib.figure import Figure

from playground import config, text
from playground.text.sampling import Candidate, NextTokenScores, SamplingSettings, next_token_distribution
from playground.ui.common import finished, new_chart, show_errors

EXAMPLES = json.loads((config.ASSETS_DIR / "examples" / "text.json").read_text())
OPENAI_MODELS = [config.DEFAULT_OPENAI_MODEL, "gpt-4o", "gpt-4.1-mini", "gpt-4.1-nano"]
TABLE_HEADERS = ["token", "probability", "probability_at_temperature", "in_top_p"]

HOW_IT_WORKS = """
**Tokens.** The model never sees letters or words: the prompt is cut into *tokens* (whole words, pieces of
words, punctuation) and each token becomes a number. The coloured strip shows the cut.

**One token at a time.** For the text so far the model gives every token of its vocabulary a score
(a *logit*). *softmax* turns the scores into probabilities that add up to 1. One token is drawn, added to
the text, and the model runs again — until it writes its end-of-reply token or reaches *max new tokens*.

**Temperature** divides the scores before softmax: `p = softmax(logits / T)`.
T < 1 sharpens the distribution (the favourite wins more often), T > 1 flattens it (surprising tokens get a
chance), and T = 0 always takes the most likely token (*greedy*: the same text every time).
Move the slider and watch the coloured bars change while the grey ones (T = 1) stay.

**Top-k** keeps only the k most likely tokens; **top-p** keeps the smallest set of most likely tokens whose
probabilities add up to p (the dashed line marks where it cuts). **Repetition penalty** > 1 lowers the
scores of tokens already in the text (the chart shows the first step, before that penalty).

**Seed.** Drawing a token is random, but a seed fixes the random numbers: the same seed and settings give
the same text at any temperature.
"""


def _visible(token: str) -> str:
    return token.replace(" ", "␣").replace("\n", "↵") or "∅"


def _table(candidates: list[Candidate]) -> pd.DataFrame:
    rows = [[c.token, round(c.probability, 6), round(c.probability_at_temperature, 6), c.in_top_p] for c in candidates]
    return pd.DataFrame(rows, columns=TABLE_HEADERS)


def _chart(candidates: list[Candidate], scores: NextTokenScores, temperature: float, top_p: float) -> Figure:
    """Horizontal bars, most likely token on top: grey at T = 1, coloured at the chosen T."""
    labels = [_visible(c.token) for c in candidates]
    rows = range(len(candidates))
    figure, axes = new_chart(7, 0.22 * len(candidates) + 1.2)
    axes.barh([r + 0.2 for r in rows], [c.probability for c in candidates], height=0.4, color="#c4c4c4", label="T = 1")
    colours = ["#4f46e5" if c.in_top_p else "#a5b4fc" for c in candidates]
    axes.barh([r - 0.2 for r in rows], [c.probability_at_temperature for c in candidates], height=0.4, color=colours, label=f"T = {temperature:g}")
    kept = sum(c.in_top_p for c in candidates)
    if kept < len(candidates):
        axes.axhline(kept - 0.5, color="#dc2626", linestyle="--", linewidth=1)
        axes.text(axes.get_xlim()[1], kept - 0.45, f"top-p {top_p:g} cut-off ", color="#dc2626", ha="right", va="bottom", fontsize=8)
    axes.set_yticks(list(rows), labels)
    axes.invert_yaxis()
    axes.set_xlabel("probability")
    scope = "over the whole vocabulary" if scores.complete else f"renormalised over the {len(scores.tokens)} tokens the server returned"
    axes.set_title(f"Next-token candidates ({scope})", fontsize=9)
    axes.legend(loc="lower right", fontsize=8)
    return finished(figure)


def _prompt_tokens(scores: NextTokenScores) -> list[tuple[str, str | None]]:
    if not scores.prompt_tokens:
        return [("(this server does not show how it cuts text into tokens)", None)]
    return [(_visible(t), "special" if special else "ab"[i % 2]) for i, (t, special) in enumerate(scores.prompt_tokens)]


@show_errors
def generate_text(
    prompt: str,
    backend: str,
    model: str,
    system_prompt: str,
    temperature: float,
    top_p: float,
    top_k: int,
    max_new_tokens: int,
    repetition_penalty: float,
    seed: int,
    base_url: str,
    api_key: str,
) -> Iterator[str]:
    """Stream the reply; each value is the whole text so far, the last one the complete reply."""
    settings = SamplingSettings(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed)
    stream = text.stream_text(prompt, backend, model, system_prompt, settings, base_url, api_key)
    reply = ""
    yield reply
    for piece in stream:
        reply += piece
        yield reply


@show_errors
def next_token_candidates(
    prompt: str,
    model: str,
    temperature: float,
    top_k: int,
    top_p: float,
    backend: str = "local",
    system_prompt: str = "",
    base_url: str = "",
    api_key: str = "",
) -> tuple[pd.DataFrame, NextTokenScores]:
    """The candidates for the reply's first token with their probabilities at T = 1 and at temperature."""
    SamplingSettings(temperature=temperature, top_k=top_k, top_p=top_p)  # check before running the model
    scores = text.next_token_scores(prompt, backend, model, system_prompt, base_url, api_key)
    return _table(next_token_distribution(scores, temperature, top_k, top_p)), scores


@show_errors
def draw_view(scores: NextTokenScores | None, temperature: float, top_k: int, top_p: float):
    """Re-draw the view from kept scores: moving a slider never runs the model again."""
    if scores is None:
        return gr.skip(), gr.skip(), gr.skip()
    candidates = next_token_distribution(scores, temperature, top_k, top_p)
    return _table(candidates), _prompt_tokens(scores), _chart(candidates, scores, temperature, top_p)


def _backend_changed(backend: str):
    if backend == "openai":
        return gr.update(choices=OPENAI_MODELS, value=config.DEFAULT_OPENAI_MODEL), gr.update(visible=True)
    return gr.update(choices=config.TEXT_MODELS, value=config.DEFAULT_TEXT_MODEL), gr.update(visible=False)


def build_text_tab() -> None:
    """Lay out the Text tab inside the current Blocks context and wire its events."""
    defaults = SamplingSettings()
    with gr.Row():
        with gr.Column(scale=2):
            backend = gr.Radio(list(text.BACKENDS), value="local", label="Backend", info="local: a model on this machine · openai: the OpenAI API or a compatible server")
            model = gr.Dropdown(config.TEXT_MODELS, value=config.DEFAULT_TEXT_MODEL, allow_custom_value=True, label="Model", info="a listed model, a local model folder, or a hub id (hub: online only)", elem_id="text-model")
            with gr.Group(visible=False) as openai_settings:
                base_url = gr.Textbox("", label="Base URL", placeholder="empty: OpenAI · e.g. http://localhost:11434/v1 for Ollama")
                api_key = gr.Textbox("", label="API key", type="password", placeholder="empty: the server's OPENAI_API_KEY", info="kept in this browser tab only; never stored or logged")
            system_prompt = gr.Textbox(config.DEFAULT_SYSTEM_PROMPT, label="System prompt", lines=2)
            prompt = gr.Textbox("", label="Prompt", lines=3, placeholder="Ask something, or start a sentence…", elem_id="text-prompt")
            with gr.Row():
                generate = gr.Button("Generate", variant="primary", elem_id="text-generate")
                stop = gr.Button("Stop", variant="stop", elem_id="text-stop")
                explain = gr.Button("Next token", elem_id="text-explain")
            temperature = gr.Slider(0, config.MAX_TEMPERATURE, value=defaults.temperature, step=0.05, label="Temperature", info="0 = greedy; higher = more surprising", elem_id="text-temperature")
            with gr.Accordion("More sampling settings", open=False):
                top_p = gr.Slider(0.01, 1, value=defaults.top_p, step=0.01, label="Top-p", info="keep the most likely tokens up to this total probability")
                top_k = gr.Slider(0, config.MAX_TOP_K, value=defaults.top_k, step=1, label="Top-k", info="keep the k most likely tokens; 0 = off")
                max_new_tokens = gr.Slider(1, config.MAX_NEW_TOKENS, value=min(200, config.MAX_NEW_TOKENS), step=1, label="Max new tokens")
                repetition_penalty = gr.Slider(0.5, 2.0, value=defaults.repetition_penalty, step=0.05, label="Repetition penalty", info="> 1 discourages repeating")
                with gr.Row():
                    seed = gr.Number(defaults.seed, precision=0, minimum=0, maximum=config.MAX_SEED, label="Seed", scale=3)
                    new_seed = gr.Button("🎲 New seed", scale=1)
            with gr.Accordion("How it works", open=False):
                gr.Markdown(HOW_IT_WORKS)
        with gr.Column(scale=3):
            output = gr.Textbox(label="Output", lines=10, interactive=False, buttons=["copy"], elem_id="text-output")
            gr.Markdown("### What the model sees, and what it may say next")
            tokens = gr.HighlightedText(label="The prompt as tokens (as the model reads it)", color_map={"a": "#c7d2fe", "b": "#fde68a", "special": "#e5e7eb"}, show_inline_category=False, elem_id="text-tokens")
            chart = gr.Plot(label="Next-token probabilities", elem_id="text-chart")
            table = gr.Dataframe(headers=TABLE_HEADERS, label="Candidates", interactive=False, max_height=300)
            scores = gr.State(None, time_to_live=3600)  # the full-vocabulary logits of this tab, ~200 KB
    example_inputs = [prompt, temperature, top_p, repetition_penalty, seed]
    gr.Examples(EXAMPLES["temperature"], inputs=example_inputs, label="Same prompt, different temperatures (same seed, top-p 1, no penalty): 0 repeats itself, high values wander")
    gr.Examples(EXAMPLES["loop"], inputs=example_inputs, label=f"A low temperature can loop; top-p {defaults.top_p:g} and repetition penalty {defaults.repetition_penalty:g} (the defaults) break the loop")

    backend.change(_backend_changed, backend, [model, openai_settings], api_visibility="private")
    new_seed.click(lambda: random.randint(0, config.MAX_SEED), None, seed, api_visibility="private")
    # the view first: the page runs the listeners of one click in order, and the view takes a second
    gr.on(
        [explain.click, generate.click, prompt.submit],
        next_token_candidates,
        inputs=[prompt, model, temperature, top_k, top_p, backend, system_prompt, base_url, api_key],
        outputs=[table, scores],
        api_name="next_token_distribution",
        preprocess=False,
    ).success(draw_view, [scores, temperature, top_k, top_p], [table, tokens, chart], api_visibility="private")
    generation = gr.on(
        [generate.click, prompt.submit],
        generate_text,
        inputs=[prompt, backend, model, system_prompt, temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, base_url, api_key],
        outputs=output,
        api_name="generate_text",
        preprocess=False,
    )
    stop.click(None, cancels=[generation])
    gr.on(
        [temperature.change, top_k.change, top_p.change],
        draw_view,
        [scores, temperature, top_k, top_p],
        [table, tokens, chart],
        api_visibility="private",
        show_progress="hidden",
    )
