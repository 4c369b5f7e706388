"""The Text tab: a prompt, sampling settings, streamed output, and the next-token view that shows
how the temperature reshapes the model's probabilities."""

import json
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace

import gradio as gr
import pandas as pd
from matplotlib.figure import Figure

from playground import config, text
from playground.text.sampling import Candidate, NextTokenScores, SamplingSettings, TokenStep, next_token_distribution
from playground.ui.attention import build_attention_view
from playground.ui.chat import build_chat
from playground.ui.common import finished, new_chart, show_errors, visible_token
from playground.ui.embeddings import build_embeddings_view
from playground.validation import check_int

EXAMPLES = json.loads((config.ASSETS_DIR / "examples" / "text.json").read_text())
OPENAI_MODELS = [config.DEFAULT_OPENAI_MODEL, "gpt-4o", "gpt-4.1-mini", "gpt-4.1-nano"]
TABLE_HEADERS = ["token", "probability", "probability_at_temperature", "in_top_p"]
TABLE_HEADERS_WITH_IDS = TABLE_HEADERS + ["token_id"]
DEFAULTS = SamplingSettings()
# the colours of the token view: each token by the probability it was drawn with (lowest bound of each band)
PROBABILITY_BANDS = {"≥ 50 %": 0.5, "10–50 %": 0.1, "1–10 %": 0.01, "< 1 %": 0.0}
BAND_COLOURS = dict(zip(PROBABILITY_BANDS, ["#bbf7d0", "#fef08a", "#fed7aa", "#fecaca"]))
PLAY_PAUSE_S = 0.25  # between two steps of Play

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
scores of tokens the reply already holds (not the prompt's: a follow-up question may well repeat a name).

**Seed.** Drawing a token is random, but a seed fixes the random numbers: the same seed and settings give
the same text at any temperature. Here the number that draws token *n* depends only on the seed and *n*: the
tokens, most likely first, share the range 0–1 by their probabilities, and the token whose band holds the number
is taken. That is why *Step by step* makes exactly the text Generate makes.

**Every step, visible.** After a reply, each token is coloured by the probability it was drawn with: click one
to see its step, and continue from there with another candidate to see what that single choice changed.
*Step by step* runs the loop one token at a time; *Chat* keeps a conversation (the model reads every earlier turn
each time); *Embeddings* shows the vectors the model starts from.
"""


STEP_BY_STEP = """
Each **Step** runs the loop once: the model scores every token of its vocabulary for the next position, the
settings reshape the scores (repetition penalty, temperature, top-k, top-p), and a random number between 0 and 1
picks the token whose band it falls in, the tokens stacked most likely first. **Click a row** to take another
candidate instead. The same seed and settings make exactly the steps Generate makes.
"""


def _table(candidates: list[Candidate], with_ids: bool = False) -> pd.DataFrame:
    rows = [[c.token, round(c.probability, 6), round(c.probability_at_temperature, 6), c.in_top_p] + ([c.token_id] if with_ids else []) for c in candidates]
    return pd.DataFrame(rows, columns=TABLE_HEADERS_WITH_IDS if with_ids else TABLE_HEADERS)


def _chart(candidates: list[Candidate], temperature: float, top_p: float, title: str, taken: int | None = None) -> Figure:
    """Horizontal bars, most likely token on top: grey at T = 1, coloured at the chosen T; the taken token outlined."""
    labels = [visible_token(c.token) for c in candidates]
    rows = range(len(candidates))
    figure, axes = new_chart(7, 0.22 * len(candidates) + 1.2)
    axes.barh([r + 0.2 for r in rows], [c.probability for c in candidates], height=0.4, color="#c4c4c4", label="T = 1")
    colours = ["#4f46e5" if c.in_top_p else "#a5b4fc" for c in candidates]
    edges = ["#111827" if taken is not None and c.token_id == taken else "none" for c in candidates]
    axes.barh([r - 0.2 for r in rows], [c.probability_at_temperature for c in candidates], height=0.4, color=colours, edgecolor=edges, linewidth=1.5, label=f"T = {temperature:g}")
    kept = sum(c.in_top_p for c in candidates)
    if kept < len(candidates):
        axes.axhline(kept - 0.5, color="#dc2626", linestyle="--", linewidth=1)
        axes.text(axes.get_xlim()[1], kept - 0.45, f"top-p {top_p:g} cut-off ", color="#dc2626", ha="right", va="bottom", fontsize=8)
    axes.set_yticks(list(rows), labels)
    axes.invert_yaxis()
    axes.set_xlabel("probability")
    axes.set_title(title, fontsize=9)
    axes.legend(loc="lower right", fontsize=8)
    return finished(figure)


def _first_token_title(scores: NextTokenScores) -> str:
    scope = "over the whole vocabulary" if scores.complete else f"renormalised over the {len(scores.tokens)} tokens the server returned"
    return f"Next-token candidates ({scope})"


def _prompt_tokens(scores: NextTokenScores) -> list[tuple[str, str | None]]:
    if not scores.prompt_tokens:
        return [("(this server does not show how it cuts text into tokens)", None)]
    return [(visible_token(t), "special" if special else "ab"[i % 2]) for i, (t, special) in enumerate(scores.prompt_tokens)]


@dataclass
class Reply:
    """A generated reply as the token view needs it: what made it, and each of its tokens' steps."""

    prompt: str
    system_prompt: str
    backend: str
    model: str
    settings: SamplingSettings
    steps: list[TokenStep]


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
) -> Iterator[tuple[str, Reply]]:
    """Stream the reply; each value is the whole text so far, the last one the complete reply (and, for the token
    view, its steps: kept in the session, not sent to API callers)."""
    settings = SamplingSettings(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed)
    stream = text.stream_text(prompt, backend, model, system_prompt, settings, base_url, api_key)
    reply = ""
    yield reply, gr.skip()
    for piece in stream:
        reply += piece
        yield reply, gr.skip()
    yield reply, Reply(prompt, system_prompt, backend, text.chosen_model(backend, model), settings, stream.steps)


def _probability_band(probability: float) -> str:
    return next(band for band, low in PROBABILITY_BANDS.items() if probability >= low)


def _token_strip(steps: list[TokenStep]) -> list[tuple[str, str]]:
    """Each token of a reply, coloured by the probability it was drawn with."""
    return [(s.token.token, _probability_band(s.probability)) for s in steps]


def show_reply(reply: Reply | None) -> list[tuple[str, str | None]] | None:
    """The finished reply as tokens, for the token view (or why a server's reply cannot be shown so)."""
    if reply is not None and not reply.steps and reply.backend != "local":
        return [("(the server returned no log-probabilities for this reply, so its tokens cannot be shown)", None)]
    return None if reply is None else _token_strip(reply.steps)


def _step_story(step: TokenStep, index: int, settings: SamplingSettings, backend: str = "local") -> str:
    """One step in words: the token, its probabilities, and what drew it."""
    token = visible_token(step.token.token)
    if backend != "local":
        return (
            f"**Token {index + 1}: `{token}`** — the server gives its probability at T = 1 only: "
            f"**{step.probability:.1%}**, and its {len(step.candidates)} most likely alternatives below."
        )
    if step.number is not None:
        how = f"the random number **{step.number:.3f}** fell in its band (tokens stacked most likely first from 0 to 1)"
    elif settings.temperature == 0:
        how = "temperature 0 always takes the most likely token"
    else:
        how = "you chose it"
    return (
        f"**Token {index + 1}: `{token}`** — probability **{step.probability:.1%}** in the distribution it was drawn "
        f"from (T = {settings.temperature:g}, top-k {settings.top_k or 'off'}, top-p {settings.top_p:g}, repetition "
        f"penalty {settings.repetition_penalty:g}), {step.token.probability:.1%} at T = 1; {how}."
    )


@show_errors
def show_token(reply: Reply | None, evt: gr.SelectData):
    """The step that produced the clicked token of a reply: its candidates, the choice to continue with another, and
    the reply and token for the attention view."""
    if reply is None or not isinstance(evt.index, int) or not 0 <= evt.index < len(reply.steps):
        return (gr.skip(),) * 6
    step = reply.steps[evt.index]
    chart = _chart(step.candidates, reply.settings.temperature, reply.settings.top_p, f"The candidates for token {evt.index + 1}", step.token.token_id)
    choices = [(f"{visible_token(c.token)}  ({c.probability_at_temperature:.1%})", c.token_id) for c in step.candidates if c.token_id is not None]
    others = [choice for choice in choices if choice[1] != step.token.token_id]
    continue_with = gr.update(choices=others, value=others[0][1] if others else None, interactive=bool(others))
    ids = [s.token.token_id for s in reply.steps]
    return _step_story(step, evt.index, reply.settings, reply.backend), chart, continue_with, evt.index, ids, evt.index


@show_errors
def continue_reply(reply: Reply | None, index: int | None, token_id: int | None) -> Iterator[tuple[str, Reply]]:
    """The reply as it would have gone had token `index` been token_id: the same settings and random numbers after it."""
    if reply is None or index is None or token_id is None:
        raise ValueError("select a token of a generated reply first, then a candidate to continue with")
    if reply.backend != "local":
        raise ValueError("continuing a reply from one of its tokens needs the local backend")
    before = [s.token.token_id for s in reply.steps[:index]]
    chosen = text.step(reply.prompt, reply.model, reply.system_prompt, reply.settings, before, token_id)
    steps = reply.steps[:index] + [chosen.step]
    shown = chosen.reply_text
    yield shown, gr.skip()
    left = reply.settings.max_new_tokens - len(steps)
    if left > 0 and not chosen.ends_reply:
        settings = replace(reply.settings, max_new_tokens=left)
        stream = text.stream_text(reply.prompt, "local", reply.model, reply.system_prompt, settings, reply_token_ids=before + [token_id])
        for piece in stream:
            shown += piece
            yield shown, gr.skip()
        steps += stream.steps
    yield shown, replace(reply, steps=steps)


@dataclass
class Stepping:
    """A reply being built one step at a time, and what it is a reply to."""

    source: tuple[str, str, str]  # prompt, system prompt, model
    steps: list[TokenStep]
    ended: bool = False


def _step_outputs(stepping: Stepping, settings: SamplingSettings):
    step = stepping.steps[-1]
    chart = _chart(step.candidates, settings.temperature, settings.top_p, f"Step {len(stepping.steps)}: the candidates", step.token.token_id)
    story = _step_story(step, len(stepping.steps) - 1, settings)
    if stepping.ended:
        story += " That is the model's **end-of-reply** token: the reply is finished."
    table = _table(step.candidates, with_ids=True)
    return stepping, _token_strip(stepping.steps), story, chart, table


@show_errors
def step_once(
    prompt: str, model: str, system_prompt: str, temperature: float, top_p: float, top_k: int, max_new_tokens: int,
    repetition_penalty: float, seed: int, stepping: Stepping | None, chosen: int | None = None,
):
    """Run the loop once on screen: the next token's distribution and the token drawn (or chosen), appended."""
    settings = SamplingSettings(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed)
    source = (prompt, system_prompt, text.chosen_model("local", model))
    if stepping is None or stepping.source != source:
        stepping = Stepping(source, [])
    if stepping.ended or len(stepping.steps) >= settings.max_new_tokens:
        raise ValueError("the reply is finished (its end token, or max_new_tokens): Restart to step through it again")
    ids = [s.token.token_id for s in stepping.steps]
    result = text.step(prompt, model, system_prompt, settings, ids, chosen)
    stepping = Stepping(source, stepping.steps + [result.step], result.ends_reply)
    return _step_outputs(stepping, settings)


def play(*inputs) -> Iterator:
    """Keep stepping, a pause between steps so the eye can follow, until the reply ends or Pause is pressed."""
    outputs = step_once(*inputs)
    while True:
        yield outputs
        stepping = outputs[0]
        if stepping.ended or len(stepping.steps) >= inputs[6]:
            return
        time.sleep(PLAY_PAUSE_S)
        outputs = step_once(*inputs[:-1], stepping)


def choose_candidate(
    prompt: str, model: str, system_prompt: str, temperature: float, top_p: float, top_k: int, max_new_tokens: int,
    repetition_penalty: float, seed: int, stepping: Stepping | None, evt: gr.SelectData,
):
    """Take the candidate of the clicked table row as the next token instead of drawing one."""
    if stepping is None or not evt.row_value:
        return (gr.skip(),) * 5
    token_id = int(evt.row_value[TABLE_HEADERS_WITH_IDS.index("token_id")])
    return step_once(prompt, model, system_prompt, temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, stepping, token_id)


def restart_steps():
    """Start stepping again from the prompt alone."""
    return None, [], "", None, None


@show_errors
def token_probabilities(
    prompt: str,
    backend: str = "local",
    model: str = "",
    system_prompt: str = config.DEFAULT_SYSTEM_PROMPT,
    temperature: float = DEFAULTS.temperature,
    top_p: float = DEFAULTS.top_p,
    top_k: int = DEFAULTS.top_k,
    max_new_tokens: int = DEFAULTS.max_new_tokens,
    repetition_penalty: float = DEFAULTS.repetition_penalty,
    seed: int = DEFAULTS.seed,
    base_url: str = "",
    api_key: str = "",
    reply_token_ids: list[int] = [],  # noqa: B006 - never mutated; gr.api reads the default for the API page
) -> dict:
    """Generate a reply like /generate_text and return it token by token: each token with the probability it was
    drawn with, the random number that drew it, and the candidates of its step (local models); with the openai
    backend, the server's logprobs at T = 1 (an empty list when the server gives none). With reply_token_ids (local
    models), continue that reply instead — e.g. its first tokens and another candidate: text and tokens are then
    what follows, drawn with the numbers the whole reply would have used."""
    settings = SamplingSettings(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed)
    stream = text.stream_text(prompt, backend, model, system_prompt, settings, base_url, api_key, reply_token_ids)
    reply = stream.text()
    source = "as drawn" if backend == "local" else "the server's logprobs at T = 1"
    return {"text": reply, "finish_reason": stream.finish_reason, "probabilities": source, "tokens": [asdict(s) for s in stream.steps]}


@show_errors
def step(
    prompt: str,
    reply_token_ids: list[int] = [],  # noqa: B006 - never mutated; gr.api reads the default for the API page
    chosen: int = -1,
    model: str = "",
    system_prompt: str = config.DEFAULT_SYSTEM_PROMPT,
    temperature: float = DEFAULTS.temperature,
    top_p: float = DEFAULTS.top_p,
    top_k: int = DEFAULTS.top_k,
    repetition_penalty: float = DEFAULTS.repetition_penalty,
    seed: int = DEFAULTS.seed,
) -> dict:
    """One turn of the generation loop after the reply so far (reply_token_ids, from the previous step): the next
    token's candidates and the token drawn — or chosen (a token id; -1 = draw) — as Generate draws it (local models)."""
    settings = SamplingSettings(temperature, top_p, top_k, DEFAULTS.max_new_tokens, repetition_penalty, seed)
    chosen = check_int("chosen", chosen, -1, config.MAX_SEED)  # the model's vocabulary is checked once it is loaded
    result = text.step(prompt, model, system_prompt, settings, reply_token_ids, None if chosen == -1 else chosen)
    ids = list(reply_token_ids) + [result.step.token.token_id]
    return asdict(result.step) | {"ends_reply": result.ends_reply, "reply_text": result.reply_text, "reply_token_ids": ids}


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
    return _table(candidates), _prompt_tokens(scores), _chart(candidates, temperature, top_p, _first_token_title(scores))


def _backend_changed(backend: str):
    if backend == "openai":
        return gr.update(choices=OPENAI_MODELS, value=config.DEFAULT_OPENAI_MODEL), gr.update(visible=True)
    return gr.update(choices=config.TEXT_MODELS, value=config.DEFAULT_TEXT_MODEL), gr.update(visible=False)


def build_text_tab() -> None:
    """Lay out the Text tab inside the current Blocks context and wire its events."""
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
            temperature = gr.Slider(0, config.MAX_TEMPERATURE, value=DEFAULTS.temperature, step=0.05, label="Temperature", info="0 = greedy; higher = more surprising", elem_id="text-temperature")
            with gr.Accordion("More sampling settings", open=False):
                top_p = gr.Slider(0.01, 1, value=DEFAULTS.top_p, step=0.01, label="Top-p", info="keep the most likely tokens up to this total probability")
                top_k = gr.Slider(0, config.MAX_TOP_K, value=DEFAULTS.top_k, step=1, label="Top-k", info="keep the k most likely tokens; 0 = off")
                max_new_tokens = gr.Slider(1, config.MAX_NEW_TOKENS, value=min(200, config.MAX_NEW_TOKENS), step=1, label="Max new tokens")
                repetition_penalty = gr.Slider(0.5, 2.0, value=DEFAULTS.repetition_penalty, step=0.05, label="Repetition penalty", info="> 1 discourages the reply from repeating its own tokens")
                with gr.Row():
                    seed = gr.Number(DEFAULTS.seed, precision=0, minimum=0, maximum=config.MAX_SEED, label="Seed", scale=3)
                    new_seed = gr.Button("🎲 New seed", scale=1)
            with gr.Accordion("How it works", open=False):
                gr.Markdown(HOW_IT_WORKS)
        with gr.Column(scale=3):
            with gr.Tabs():
                with gr.Tab("Generate"):
                    output = gr.Textbox(label="Output", lines=8, interactive=False, buttons=["copy"], elem_id="text-output")
                    reply_tokens = gr.HighlightedText(label="The reply as tokens, coloured by the probability each was drawn with — click one to see its step", color_map=BAND_COLOURS, show_legend=True, show_inline_category=False, elem_id="text-reply-tokens")
                    token_story = gr.Markdown(elem_id="text-token-story")
                    token_chart = gr.Plot(label="That step's candidates", elem_id="text-token-chart")
                    with gr.Row():
                        continue_with = gr.Dropdown([], label="Continue from that token with", interactive=False, elem_id="text-continue-with", scale=3)
                        continue_button = gr.Button("Continue from here", elem_id="text-continue", scale=1)
                    with gr.Accordion("Attention: what the model looked at while choosing that token", open=False):
                        attention = build_attention_view(prompt, model, system_prompt)
                    gr.Markdown("### What the model sees, and what it may say first")
                    tokens = gr.HighlightedText(label="The prompt as tokens (as the model reads it)", color_map={"a": "#c7d2fe", "b": "#fde68a", "special": "#e5e7eb"}, show_inline_category=False, elem_id="text-tokens")
                    chart = gr.Plot(label="Next-token probabilities", elem_id="text-chart")
                    table = gr.Dataframe(headers=TABLE_HEADERS, label="Candidates", interactive=False, max_height=300)
                with gr.Tab("Step by step", elem_id="text-step-tab"):
                    gr.Markdown(STEP_BY_STEP)
                    with gr.Row():
                        step_button = gr.Button("Step", variant="primary", elem_id="text-step")
                        play_button = gr.Button("▶ Play", elem_id="text-play")
                        pause_button = gr.Button("Pause", elem_id="text-pause")
                        restart_button = gr.Button("Restart", elem_id="text-restart")
                    step_reply = gr.HighlightedText(label="The reply so far, token by token", color_map=BAND_COLOURS, show_legend=True, show_inline_category=False, elem_id="text-step-reply")
                    step_story = gr.Markdown(elem_id="text-step-story")
                    step_chart = gr.Plot(label="This step's candidates", elem_id="text-step-chart")
                    step_table = gr.Dataframe(headers=TABLE_HEADERS_WITH_IDS, label="Candidates — click a row to take that token instead", interactive=False, max_height=300, elem_id="text-step-table")
                with gr.Tab("Chat", elem_id="text-chat-tab"):
                    build_chat(backend, model, system_prompt, temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, base_url, api_key)
                with gr.Tab("Embeddings", elem_id="text-embeddings-tab"):
                    build_embeddings_view(model)
            scores = gr.State(None, time_to_live=3600)  # the full-vocabulary logits of this tab, ~200 KB
            reply = gr.State(None, time_to_live=3600)  # the last reply's steps, for the token view
            selected = gr.State(None)  # the index of the token selected in the reply
            stepping = gr.State(None, time_to_live=3600)
    example_inputs = [prompt, temperature, top_p, top_k, repetition_penalty, seed]
    gr.Examples(EXAMPLES["temperature"], inputs=example_inputs, label="Same prompt, different temperatures (same seed, no top-p, top-k or penalty): 0 repeats itself, high values wander")
    gr.Examples(EXAMPLES["loop"], inputs=example_inputs, label=f"A low temperature can loop; top-k {DEFAULTS.top_k} and repetition penalty {DEFAULTS.repetition_penalty:g} (the defaults) break the loop")

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
        outputs=[output, reply],
        api_name="generate_text",
        preprocess=False,
    )
    generation.then(show_reply, reply, reply_tokens, api_visibility="private")
    reply_tokens.select(show_token, reply, [token_story, token_chart, continue_with, selected, attention.reply_token_ids, attention.token_index], api_visibility="private")
    continuation = continue_button.click(continue_reply, [reply, selected, continue_with], [output, reply], api_visibility="private")
    continuation.then(show_reply, reply, reply_tokens, api_visibility="private")
    stop.click(None, cancels=[generation, continuation])
    gr.on(
        [temperature.change, top_k.change, top_p.change],
        draw_view,
        [scores, temperature, top_k, top_p],
        [table, tokens, chart],
        api_visibility="private",
        show_progress="hidden",
    )

    step_inputs = [prompt, model, system_prompt, temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, stepping]
    step_outputs = [stepping, step_reply, step_story, step_chart, step_table]
    step_button.click(step_once, step_inputs, step_outputs, api_visibility="private")
    playing = play_button.click(play, step_inputs, step_outputs, api_visibility="private")
    pause_button.click(None, cancels=[playing])
    step_table.select(choose_candidate, step_inputs, step_outputs, api_visibility="private")
    restart_button.click(restart_steps, None, step_outputs, api_visibility="private")
    gr.api(step, api_name="step")
    gr.api(token_probabilities, api_name="token_probabilities")
