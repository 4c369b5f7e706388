"""The Compare tab: 2–4 prompts side by side through one backend with the same seeds and settings, scored for
specificity, adherence (pictures: the judge's details honoured) and diversity, with a chart of adherence against
specificity; "Make it detailed", which words mattered, a temperature sweep, the export."""

import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, fields

import gradio as gr
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from playground import compare, config, image, text
from playground.compare import CompareSettings, Comparison
from playground.image.judge import verdict_text
from playground.ui.common import finished, new_chart, show_errors
from playground.ui.image import MODELS as IMAGE_MODELS
from playground.ui.text import OPENAI_MODELS

EXAMPLES = json.loads((config.ASSETS_DIR / "examples" / "compare.json").read_text())
COLUMNS = compare.MAX_PROMPTS
EXPAND_IDS = [f"compare-expand-{i}" for i in range(COLUMNS - 1)]
TEMPERATURES = [0.0, 0.3, 0.7, 1.0, 1.3, 1.6, 2.0]
DIFF_COLOURS = {"added": "#bbf7d0", "removed": "#fecaca"}
CSS = ".compare-gallery img { image-rendering: pixelated; }"
DEFAULTS = CompareSettings()

HOW_IT_WORKS = """
**Same seed, same settings, different prompts.** Every prompt runs with seeds *seed, seed + 1, …*: result *i* of
each column starts from the same noise (pictures) or the same random numbers (texts), so the differences you
see come from the words.

**Specificity** counts the concrete details a prompt states, by word lists you can read in
`playground/compare/specificity.py`: colour, count, size, shape, expression, material, style, composition, format; other
words count as the *subject*, and words like "a", "with" (skipped) or "nice", "thing" (vague, not counted) do
not. Every counted word is listed under its column.

**Adherence** measures how much of the *most detailed* prompt (the highest specificity, the reference) each
result honours. For pictures, a *judge* checks them the way GenEval does: it finds the objects and checks each
detail the reference asks for — each object, its count, colour, size and place, how two objects stand, the
background, the style — ✓ honoured or ✗ not (under each picture, with what it saw instead). A picture's adherence
is the share of those details it honours; a column's is the mean over its pictures. The judge
(`assets/models/emoji-judge`) is a small detector trained only on real drawings of our world, never on generated
pictures, so it does not share the models' blind spots. It knows only that world: words outside its vocabulary are
not checked (they are listed), and pictures of hub or OpenAI models are not measured. For texts, adherence is the
cosine similarity of their MiniLM sentence embeddings. Vague prompts leave the model to guess, so their results
honour fewer of the details the detailed prompt meant. The chart puts each column's adherence against its
specificity.

**Diversity** is the mean distance between every pair of a column's results. For pictures of our own models it is
the share of what the judge sees — the objects, their colours, how many, where, the background, the style — that
differs between two pictures (0: the same content, 1: nothing in common); pixels alone would mislead, since two big
apples differ in more pixels than two small foods. For hub and OpenAI pictures it is the mean difference of their
pixels (0: the same picture, 1: black against white), for texts 1 − the cosine of their MiniLM embeddings. Vague
prompts let the seed decide more, so they vary more.

**Make it detailed** asks a text model (the local SmolLM2-135M from four examples, or OpenAI) to rewrite a
prompt with details; the result lands in the next column, where you can edit it, and the words it added are
highlighted.

**Which words mattered** takes the most detailed prompt, removes one detail at a time, makes the results again
with the same seeds and measures their adherence to the full prompt: a long bar means that detail changed the
results most. For pictures the table also lists the judge's checks each removal costs: taking out "blue" from
"a blue cat" should cost *blue cat*, honoured by fewer pictures without the word.

**Temperature sweep** (text) runs one prompt at several temperatures with the same seeds. *distinct-n* is the
share of different word n-grams among all of them: 1 when nothing repeats, low when the seeds give the same
text (at temperature 0 they always do).
"""


@dataclass
class Shown:
    """One comparison as the tab keeps it: the results and the PNG files of its pictures."""

    comparison: Comparison
    files: list[list[str]]  # per prompt, per seed (empty for texts)


SETTING_NAMES = [field.name for field in fields(CompareSettings)]


def takes_settings(fn: Callable) -> Callable:
    """Turn fn(first, settings, base_url, api_key) into an event handler that takes every CompareSettings field as
    its own named parameter (the names the HTTP API shows, as in the other tabs) and answers bad input with gr.Error."""
    first = next(iter(inspect.signature(fn).parameters))

    @functools.wraps(fn)
    def handler(value, *args):
        *settings, base_url, api_key = args
        return fn(value, CompareSettings(*settings), base_url, api_key)

    named = inspect.Parameter.POSITIONAL_OR_KEYWORD
    handler.__signature__ = inspect.Signature(
        [inspect.Parameter(name, named) for name in [first, *SETTING_NAMES]]
        + [inspect.Parameter(name, named, default="") for name in ("base_url", "api_key")]
    )
    return show_errors(handler)


@takes_settings
def compare_prompts(
    prompts: list[str], settings: CompareSettings, base_url: str, api_key: str
) -> tuple[list[tuple[str, str]], dict, Shown]:
    """Run and score the prompts; returns the pictures (prompt order, then seed order), the report, and the run."""
    comparison = compare.compare_prompts(prompts, settings, base_url, api_key)
    files = compare.save_pictures(comparison) if settings.modality == "image" else []
    gallery = [(file, f"{column.prompt} · {caption}") for column, column_files in zip(comparison.columns, files)
               for file, caption in zip(column_files, _captions(column, settings.seeds))]
    return gallery, comparison.report(files), Shown(comparison, files)


def _captions(column: compare.Column, seeds: list[int]) -> list[str]:
    """Under each picture: its seed and, when judged, the reference's details it honours ✓ and does not ✗."""
    if column.mean_honoured is None:
        return [f"seed {seed}" for seed in seeds]
    return [f"seed {seed} · {v.honoured} of {len(v.checks)}: {verdict_text(v)}" for seed, v in zip(seeds, column.verdicts)]


def _adherence_markdown(column: compare.Column, comparison: Comparison, star: str) -> str:
    reference = " (the reference)" if column.prompt == comparison.reference else ""
    if column.mean_adherence is None:
        return f"**Adherence —**{reference}: {comparison.adherence_measure}"
    if column.mean_honoured is None:
        return f"**Adherence {column.mean_adherence:.3f}**{star}{reference}"
    pictures = len(column.verdicts)
    details = " · ".join(f"{'✓ ' if n == pictures else '✗ ' if n == 0 else ''}{detail} {n}/{pictures}"
                         for detail, n in column.details)
    return (f"**Details honoured {column.mean_honoured:.2f} of {len(column.details)}** "
            f"({column.mean_adherence:.0%}){star}{reference}\n\n{details}")


def _scores_markdown(column: compare.Column, comparison: Comparison, best: float | None) -> str:
    found = column.specificity.by_category()
    words = " · ".join(f"{category}: *{', '.join(w)}*" for category, w in found.items()) or "none"
    vague = f" (not counted: {', '.join(column.specificity.not_counted)})" if column.specificity.not_counted else ""
    diversity = "— (needs 2 seeds or more)" if column.diversity is None else f"{column.diversity:.3f}"
    star = " ★" if best is not None and column.mean_adherence == best else ""
    unchecked = ""
    if column.prompt == comparison.reference and comparison.not_checked:
        unchecked = f"\n\nNot checked (not in the judge's vocabulary): {', '.join(map(repr, comparison.not_checked))}"
    return (f"**Specificity {column.specificity.score}** — {words}{vague}\n\n"
            f"{_adherence_markdown(column, comparison, star)}{unchecked}\n\n**Diversity {diversity}** "
            f"({comparison.diversity_compares})")


def _specificity_chart(comparison: Comparison) -> Figure | None:
    """Each column's adherence (pictures: details honoured, each picture a small dot) against its specificity; None
    when adherence was not measured."""
    columns = comparison.columns
    if columns[0].mean_adherence is None:
        return None
    figure, axes = new_chart(7, 3.2)
    judged = columns[0].mean_honoured is not None
    xs = [c.specificity.score for c in columns]
    ys = [c.mean_honoured if judged else c.mean_adherence for c in columns]
    axes.plot(xs, ys, color="#4f46e5", linewidth=1, alpha=0.5, zorder=1)
    axes.scatter(xs, ys, s=60, color="#4f46e5", zorder=3)
    for index, (column, x, y) in enumerate(zip(columns, xs, ys)):
        if judged:
            spread = [x + 0.06 * (k - (len(column.verdicts) - 1) / 2) for k in range(len(column.verdicts))]
            axes.scatter(spread, [v.honoured for v in column.verdicts], s=12, color="#a5b4fc", zorder=2)
        label = column.prompt if len(column.prompt) <= 28 else column.prompt[:27] + "…"
        axes.annotate(f"{index + 1}. {label}", (x, y), textcoords="offset points", xytext=(6, 4), fontsize=8)
    if judged:
        total = len(columns[0].details)
        axes.axhline(total, color="#6b7280", linewidth=1, linestyle="--")
        axes.set_ylim(-0.3, total + 0.5)
        axes.set_yticks(range(total + 1))
        axes.set_ylabel(f"details honoured (of {total})")
    else:
        axes.set_ylabel("adherence (MiniLM cosine)")
    axes.set_xlim(min(xs) - 0.5, max(xs) + 2.5)  # room for the labels on the right
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("specificity (details the prompt states)")
    measure = "Details honoured" if judged else "Adherence"
    axes.set_title(f"{measure} against specificity: each column a point" + (", each picture a dot" if judged else ""),
                   fontsize=9)
    return finished(figure)


def _texts_shown(column: compare.Column, seeds: list[int]) -> str:
    return "\n\n".join(f"[seed {seed}] {result}" for seed, result in zip(seeds, column.results))


def show_columns(shown: Shown | None):
    """Each column's results and scores, and the export files."""
    if shown is None:
        return [gr.skip()] * (3 * COLUMNS + 3)
    comparison = shown.comparison
    seeds = comparison.settings.seeds
    pictures = comparison.settings.modality == "image"
    best = max((c.mean_adherence for c in comparison.columns if c.mean_adherence is not None), default=None)
    galleries, texts, scores = [], [], []
    for i in range(COLUMNS):
        column = comparison.columns[i] if i < len(comparison.columns) else None
        shown_pictures = list(zip(shown.files[i], _captions(column, seeds))) if column and pictures else None
        galleries.append(gr.update(value=shown_pictures, visible=pictures))
        texts.append(gr.update(value=_texts_shown(column, seeds) if column and not pictures else "", visible=not pictures))
        scores.append(_scores_markdown(column, comparison, best) if column else "")
    sheet, report = compare.export(comparison, shown.files)
    return *galleries, *texts, *scores, _specificity_chart(comparison), str(sheet), str(report)


@show_errors
def enhance_prompt(prompt: str, modality: str, backend: str, model: str = "", base_url: str = "", api_key: str = "") -> str:
    """A detailed version of the prompt, written by the text backend."""
    return compare.expand_prompt(prompt, modality, backend, model, base_url, api_key)


def _expansion_source(first: str, second: str, third: str, evt: gr.EventData) -> tuple[str, int]:
    """The prompt of the column whose "Make it detailed" was pressed, and that column's index."""
    index = EXPAND_IDS.index(evt.target.elem_id)
    return (first, second, third)[index], index


def _place_expansion(index: int, detailed: str, count: int):
    """Put the expansion into the column after the source, showing that column if it was hidden."""
    prompts = [gr.skip()] * COLUMNS
    prompts[index + 1] = detailed
    return *prompts, max(int(count), index + 2)


def _diff(before: str, after: str):
    if not before.strip() or not after.strip():
        return gr.update(value=None, visible=False)
    return gr.update(value=compare.word_diff(before, after), visible=True)


def _most_detailed(count: int, *prompts: str) -> str:
    filled = [p for p in prompts[: int(count)] if p.strip()]
    return compare.most_detailed(filled) if filled else ""


@takes_settings
def words_that_mattered(prompt: str, settings: CompareSettings, base_url: str, api_key: str) -> tuple[pd.DataFrame, Figure]:
    """Adherence lost when each detail phrase is taken out of the prompt, and for pictures the judge's checks it costs,
    as a table and as bars."""
    full, effects = compare.words_that_mattered(prompt, settings, base_url, api_key)
    rows = [[e.phrase, e.prompt, round(e.adherence, 4), round(e.drop, 4), _costs_text(e.costs, settings.num_seeds)]
            for e in effects]
    table = pd.DataFrame(rows, columns=["detail removed", "prompt without it", "adherence", "drop", "checks it costs"])
    return table, _drop_chart(effects, full, settings.modality)


def _costs_text(costs: list[tuple[str, int, int]], pictures: int) -> str:
    """"✓ blue cat: 4 → 1 of 4 pictures": the checks honoured by fewer pictures without the detail."""
    return " · ".join(f"✓ {detail}: {before} → {after} of {pictures} pictures" for detail, before, after in costs)


def _drop_chart(effects: list[compare.PhraseEffect], full: float, modality: str) -> Figure:
    """One bar per removed detail: how much adherence to the full prompt fell without it."""
    figure, axes = new_chart(7, 0.45 * len(effects) + 1.3)
    drops = [e.drop for e in effects]
    axes.barh(range(len(effects)), drops, color=["#4f46e5" if d > 0 else "#d1d5db" for d in drops])
    axes.set_yticks(range(len(effects)), [e.phrase for e in effects])
    axes.invert_yaxis()
    axes.axvline(0, color="#6b7280", linewidth=1)
    measure = "share of its details honoured" if modality == "image" else "MiniLM cosine"
    axes.set_xlabel(f"adherence lost without the detail (full prompt: {full:.3f}, the {measure})")
    axes.set_title("Which words mattered: a longer bar, a bigger effect", fontsize=9)
    return finished(figure)


@show_errors
def temperature_sweep(
    prompt: str,
    temperatures: list[float],
    backend: str,
    model: str,
    seed: int,
    num_seeds: int,
    system_prompt: str,
    top_p: float,
    max_new_tokens: int,
    base_url: str = "",
    api_key: str = "",
) -> pd.DataFrame:
    """One row per temperature: distinct-1, distinct-2 and the text of each seed, side by side."""
    settings = CompareSettings("text", backend, model, seed, num_seeds, system_prompt=system_prompt, top_p=top_p,
                               max_new_tokens=max_new_tokens)
    rows = compare.temperature_sweep(prompt, temperatures, settings, base_url, api_key)
    headers = ["temperature", "distinct-1", "distinct-2", *(f"seed {s}" for s in settings.seeds)]
    return pd.DataFrame([[r.temperature, round(r.distinct_1, 3), round(r.distinct_2, 3), *r.texts] for r in rows],
                        columns=headers)


def _model_choices(modality: str, backend: str) -> tuple[list, str]:
    if modality == "image":  # the backend may still be the other modality's while both change
        return IMAGE_MODELS.get(backend, IMAGE_MODELS["diffusion"]), ""
    if backend == "openai":
        return OPENAI_MODELS, config.DEFAULT_OPENAI_MODEL
    return config.TEXT_MODELS, config.DEFAULT_TEXT_MODEL


def _modality_changed(modality: str):
    backend = "diffusion" if modality == "image" else "local"
    return gr.update(choices=list(compare.BACKENDS[modality]), value=backend), gr.update(visible=modality == "text")


def _backend_changed(modality: str, backend: str, expand_backend: str):
    choices, value = _model_choices(modality, backend)
    pictures = modality == "image"
    return (
        gr.update(choices=choices, value=value),
        gr.update(visible=pictures),
        gr.update(visible=pictures and backend == "diffusion"),
        gr.update(visible=not pictures),
        gr.update(visible="openai" in (backend, expand_backend)),
    )


def _expand_backend_changed(backend: str):
    choices, value = _model_choices("text", backend)
    return gr.update(choices=choices, value=value)


def build_compare_tab() -> None:
    """Lay out the Compare tab inside the current Blocks context and wire its events."""
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            modality = gr.Radio(list(compare.MODALITIES), value="image", label="Modality", elem_id="compare-modality")
            backend = gr.Radio(list(image.BACKENDS), value="diffusion", label="Backend", info="every prompt runs through this one", elem_id="compare-backend")
            model = gr.Dropdown(IMAGE_MODELS["diffusion"], value="", allow_custom_value=True, label="Model", elem_id="compare-model")
            with gr.Group(visible=False) as openai_settings:
                base_url = gr.Textbox("", label="Base URL", placeholder="empty: OpenAI · or a compatible server, e.g. this app's http://127.0.0.1:7860/v1")
                api_key = gr.Textbox("", label="API key", type="password", placeholder="empty: the server's OPENAI_API_KEY", info="kept in this browser tab only; never stored or logged")
            seed = gr.Number(0, precision=0, minimum=0, maximum=config.MAX_SEED, label="Seed", info="result i of every prompt uses seed + i", elem_id="compare-seed")
            num_seeds = gr.Slider(1, config.MAX_COMPARE_SEEDS, value=DEFAULTS.num_seeds, step=1, label="Seeds per prompt", info="2 or more to measure diversity", elem_id="compare-num-seeds")
            with gr.Group() as image_settings:
                with gr.Group() as diffusion_settings:
                    negative_prompt = gr.Textbox("", label="Negative prompt")
                    num_inference_steps = gr.Slider(1, config.MAX_INFERENCE_STEPS, value=DEFAULTS.num_inference_steps, step=1, label="Steps")
                    guidance_scale = gr.Slider(0, config.MAX_GUIDANCE_SCALE, value=DEFAULTS.guidance_scale, step=0.5, label="Guidance scale")
                    scheduler = gr.Dropdown(list(image.SCHEDULERS), value=DEFAULTS.scheduler, label="Scheduler")
            with gr.Group(visible=False) as text_settings:
                system_prompt = gr.Textbox("", label="System prompt", lines=2)
                temperature = gr.Slider(0, config.MAX_TEMPERATURE, value=DEFAULTS.temperature, step=0.05, label="Temperature")
                top_p = gr.Slider(0.01, 1, value=DEFAULTS.top_p, step=0.01, label="Top-p")
                max_new_tokens = gr.Slider(1, config.MAX_NEW_TOKENS, value=DEFAULTS.max_new_tokens, step=1, label="Max new tokens")
            with gr.Accordion("Make it detailed: who writes", open=False):
                expand_backend = gr.Radio(list(text.BACKENDS), value="local", label="Text backend", info="local: SmolLM2-135M from a few examples · openai: uses the base URL and key above")
                expand_model = gr.Dropdown(config.TEXT_MODELS, value=config.DEFAULT_TEXT_MODEL, allow_custom_value=True, label="Text model")
            gr.Markdown(f"One comparison is capped at {config.MAX_COMPARE_WORK} units of work: prompts × seeds × steps (denoising steps, or new tokens for text).")
            with gr.Accordion("How it works", open=False):
                gr.Markdown(HOW_IT_WORKS)
        with gr.Column(scale=4):
            count = gr.Radio([2, 3, 4], value=2, label="Prompts", info="from vague (left) to detailed (right)", elem_id="compare-count")
            columns, prompt_boxes, diffs, expand_buttons, galleries, text_boxes, scores = [], [], [], [], [], [], []
            with gr.Row(equal_height=False):
                for i in range(COLUMNS):
                    with gr.Column(visible=i < 2, min_width=220) as column:
                        columns.append(column)
                        prompt_boxes.append(gr.Textbox("", label=f"Prompt {i + 1}", lines=2, elem_id=f"compare-prompt-{i}"))
                        diffs.append(gr.HighlightedText(label=f"What prompt {i + 1} adds to prompt {i}", color_map=DIFF_COLOURS, show_inline_category=False, visible=False, elem_id=f"compare-diff-{i}"))
                        if i < COLUMNS - 1:
                            expand_buttons.append(gr.Button("Make it detailed →", size="sm", elem_id=EXPAND_IDS[i]))
                        galleries.append(gr.Gallery(label="Results", columns=4, height="auto", format="png", interactive=False, elem_id=f"compare-gallery-{i}", elem_classes="compare-gallery"))
                        text_boxes.append(gr.Textbox(label="Results", lines=8, max_lines=20, interactive=False, visible=False, elem_id=f"compare-texts-{i}"))
                        scores.append(gr.Markdown(elem_id=f"compare-scores-{i}"))
            run = gr.Button("Compare", variant="primary", elem_id="compare-run")
            chart = gr.Plot(label="Adherence against specificity (pictures: details honoured)", elem_id="compare-chart")
            with gr.Accordion("Which words mattered", open=True):
                words_prompt = gr.Textbox("", label="Detailed prompt analysed (the most detailed of the columns)", interactive=False, elem_id="compare-words-prompt")
                words = gr.Button("Which words mattered?", elem_id="compare-words")
                words_chart = gr.Plot(label="Adherence lost without each detail", elem_id="compare-words-chart")
                words_table = gr.Dataframe(label="Each detail removed", interactive=False, elem_id="compare-words-table")
            with gr.Accordion("Temperature sweep (text)", open=True, visible=False) as sweep_box:
                sweep_prompt = gr.Textbox("Write a one-line slogan for a coffee shop.", label="Prompt", elem_id="compare-sweep-prompt")
                temperatures = gr.Dropdown(TEMPERATURES, value=[0.0, 0.7, 1.3], multiselect=True, label="Temperatures", elem_id="compare-temperatures")
                sweep = gr.Button("Sweep", elem_id="compare-sweep")
                sweep_table = gr.Dataframe(label="Same seeds at each temperature", interactive=False, wrap=True, elem_id="compare-sweep-table")
            with gr.Accordion("Export", open=True):
                with gr.Row():
                    sheet_file = gr.File(label="Sheet (PNG: prompts, results, scores; settings inside)", interactive=False, elem_id="compare-sheet")
                    report_file = gr.File(label="JSON", interactive=False, elem_id="compare-json")
                with gr.Accordion("Scores as JSON (what /compare_prompts returns)", open=False):
                    report = gr.JSON(label="Scores", elem_id="compare-report")
            prompts = gr.JSON(visible=False)
            all_results = gr.Gallery(visible=False, format="png")
            expansion = gr.Textbox("", visible=False)
            expand_from = gr.Number(visible=False, precision=0)
            shown = gr.State(None, time_to_live=3600)
    gr.Examples(EXAMPLES["image"], inputs=[modality, count, *prompt_boxes, seed], label="Pictures, vague → detailed (same seeds)")
    gr.Examples(EXAMPLES["text"], inputs=[modality, count, *prompt_boxes, seed], label="Texts, vague → detailed (same seeds)")

    controls = {"modality": modality, "backend": backend, "model": model, "seed": seed, "num_seeds": num_seeds,
                "negative_prompt": negative_prompt, "num_inference_steps": num_inference_steps,
                "guidance_scale": guidance_scale, "scheduler": scheduler, "system_prompt": system_prompt,
                "temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens}
    settings_inputs = [controls[name] for name in SETTING_NAMES] + [base_url, api_key]  # takes_settings' order
    modality.change(_modality_changed, modality, [backend, sweep_box], api_visibility="private")
    gr.on([modality.change, backend.change, expand_backend.change], _backend_changed, [modality, backend, expand_backend],
          [model, image_settings, diffusion_settings, text_settings, openai_settings], api_visibility="private")
    expand_backend.change(_expand_backend_changed, expand_backend, expand_model, api_visibility="private")
    count.change(lambda n: [gr.update(visible=i < int(n)) for i in range(COLUMNS)], count, columns, api_visibility="private")
    for i in range(1, COLUMNS):
        gr.on([prompt_boxes[i - 1].change, prompt_boxes[i].change], _diff, [prompt_boxes[i - 1], prompt_boxes[i]], diffs[i],
              api_visibility="private", queue=False, show_progress="hidden", trigger_mode="always_last")

    run.click(lambda n, *p: [x for x in p[: int(n)]], [count, *prompt_boxes], prompts, api_visibility="private").then(
        compare_prompts, [prompts, *settings_inputs], [all_results, report, shown], api_name="compare_prompts", preprocess=False,
    ).success(show_columns, shown, [*galleries, *text_boxes, *scores, chart, sheet_file, report_file],
              api_visibility="private")

    gr.on([b.click for b in expand_buttons], _expansion_source, prompt_boxes[:-1], [expansion, expand_from], api_visibility="private").then(
        enhance_prompt, [expansion, modality, expand_backend, expand_model, base_url, api_key], expansion,
        api_name="enhance_prompt", preprocess=False,
    ).success(_place_expansion, [expand_from, expansion, count], [*prompt_boxes, count], api_visibility="private")

    words.click(_most_detailed, [count, *prompt_boxes], words_prompt, api_visibility="private").then(
        words_that_mattered, [words_prompt, *settings_inputs], [words_table, words_chart], api_name="words_that_mattered",
        preprocess=False,
    )
    sweep.click(
        temperature_sweep,
        [sweep_prompt, temperatures, backend, model, seed, num_seeds, system_prompt, top_p, max_new_tokens, base_url, api_key],
        sweep_table, api_name="temperature_sweep", preprocess=False,
    )
