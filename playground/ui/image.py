"""The Image tab: a prompt and settings in, pictures out, with the denoising timeline, post-processing
without regenerating, and PNG files that carry their settings (drop one back to restore them). Under our models'
pictures, the judge's checks: which details of the prompt each picture honours; below, what the models know."""

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import gradio as gr
from PIL import Image

from playground import config, image
from playground.image import metadata, planner, world
from playground.image.judge import JudgeConfig, Verdict, judge_pictures, verdict_text
from playground.image.postprocess import UPSCALES, PostProcessing, postprocess
from playground.ui.common import show_errors

EXAMPLES = json.loads((config.ASSETS_DIR / "examples" / "image.json").read_text())
# (label, value) per backend; the value "" is the backend's default model, so API callers may leave model out
MODELS = {
    "gan": [("emoji-gan (ours, offline)", "")],
    "diffusion": [(f"{config.OWN_DIFFUSION_MODEL} (ours, offline)", ""), *((m, m) for m in config.IMAGE_HUB_MODELS)],
    "openai": [(config.DEFAULT_OPENAI_IMAGE_MODEL, ""), ("dall-e-3", "dall-e-3"), ("gpt-image-1", "gpt-image-1")],
}
TIMELINE_ZOOM = 4  # timeline pictures are shown this many times larger (nearest neighbour: pixels stay sharp)
POSTPROCESS_SLIDERS = ("brightness", "contrast", "saturation", "sharpness")
CSS = "#image-gallery img, #image-timeline img { image-rendering: pixelated; }"
OBJECT_SHEET = config.ASSETS_DIR / "examples" / "world_objects.png"  # python -m playground.training.scenes --objects
NOT_OURS = ("The judge knows only our own world (the objects and words under *What this model knows*): it checks "
            "pictures of our models (gan, and diffusion with emoji-diffusion), not those of hub or OpenAI models.")
CHECKS_HEADING = ("**Which details each picture honours** (✓ honoured · ✗ not, with what the judge saw instead in "
                  "brackets; checked on the pictures as generated, before post-processing)")

HOW_IT_WORKS = """
**GAN (generator vs discriminator).** Two networks learn against each other. The *generator* turns random
noise plus your prompt into a picture in one step; the *discriminator* sees real emoji and generated ones
and learns to tell them apart, and whether a picture matches its caption. Each one's progress is the
other's lesson, until the generator's pictures pass. One pass, so it is instant; the seed picks the noise.

**Diffusion (denoising).** Training adds noise to real pictures and teaches a network (a *UNet*) to predict
that noise. Generating runs it backwards: start from pure noise and remove a little of it at each *step*,
guided by your prompt. The timeline shows what the model thinks the final picture is at each step.
The *scheduler* decides how big each step is: DPM-Solver++ needs ~15 steps, the original DDPM hundreds.
Ours works as Stable Diffusion does, in a *latent* space: an autoencoder trained here squeezes a 64 × 64 picture
into 16 × 16 cells of 8 numbers; the UNet denoises those, reading your prompt's words by cross-attention, and the
decoder draws the picture from them.

**Guidance scale.** At every step the model predicts twice, with your prompt and with the *negative prompt*
(empty: "anything"), and moves away from the second towards the first, `guidance` times as far.
0–1: loose, varied pictures; 3–7: closer to the prompt; too high: harsh colours.

**Detailed prompts.** Our models learn from captions from vague ("food") to detailed ("two small red apples
in the top left corner, on a blue background, flat style"): the more you say, the closer the picture should come
to what you meant. Under each of our models' pictures, a *judge* checks every detail of the prompt: ✓ honoured,
✗ not (with what it saw instead). The judge is a small detector trained only on real drawings of this world, never
on the models' pictures, so it does not share their blind spots. Try the examples: a ladder of detail, same seed.

**Several objects: a layout first.** A model that reads the whole prompt at once mixes up which word goes
where: asked for "a blue heart and a red star" ours draws two blobs of mixed colours, as every model GenEval
measured does. So for a prompt of two or more objects, our diffusion model draws in a *layout* (as LLM-grounded
diffusion does): the app reads the prompt, gives each object a region (a relation puts its two objects on opposite
sides; a stated place is kept), and at every step the model predicts each region with that object's own words
only ("a blue heart on the left"). The layout is listed under the pictures.

**Post-processing** (brightness, contrast, colour, sharpness, upscale) changes the finished pictures
with Pillow, without running the model again. Every PNG keeps its settings: drop one into *PNG info*.
"""


def _phrases(phrases: dict[str, tuple[str, ...]]) -> str:
    return "; ".join(" / ".join(alternatives) for alternatives in phrases.values())


_OBJECTS = "; ".join(f"*{category}*: {', '.join(objects)}" for category, objects in world.CATEGORIES.items())
_SIZES = {size: tuple(w for w, s in world.SIZES.items() if s == size) for size in dict.fromkeys(world.SIZES.values())}
VOCABULARY = f"""
The models draw a small world: 64 × 64 pictures of one to four of these objects. A prompt can ask for:

- **Objects** ({len(world.OBJECTS)}, by category): {_OBJECTS}.
  Also: {", ".join(f"{s} ({w})" for s, w in world.SYNONYMS.items())}.
- **Counts**: {", ".join(world.COUNTS)} ("two apples", "3 cats").
- **Colours** of an object, natural or not ("a blue banana"): {", ".join(world.OBJECT_COLOURS)}.
- **Sizes**: {_phrases(_SIZES)}.
- **Places**: {_phrases(world.AREA_PHRASES)}.
- **Relations** between two objects: {_phrases(world.RELATION_PHRASES)} ("a cat above a car").
- **Backgrounds**: "on a blue background", "on a blue to yellow gradient", in {", ".join(world.BACKGROUND_COLOURS)}
  (white is the default light grey).
- **Styles**: {", ".join(f'"{world.STYLE_WORDS[s]} style"' for s in JudgeConfig().styles)}.

Any other word is not in the vocabulary: the models never saw it, so no picture can show it.
Thumbnails: Noto emoji (Apache-2.0), one style of the five the models learn.
"""


@dataclass
class Generated:
    """One run's pictures before post-processing, kept per browser tab."""

    images: list[Image.Image]
    settings: list[dict]
    files: list[str]  # the pictures as saved, without post-processing
    timeline: image.diffusion.Timeline | None  # diffusion only
    ours: bool  # drawn by our own models, so the judge can check them (ImageSettings.ours)


def _side_by_side(pictures: list[Image.Image]) -> Image.Image:
    width, height = pictures[0].size
    strip = Image.new("RGB", (width * len(pictures), height), "white")
    for i, picture in enumerate(pictures):
        strip.paste(picture.convert("RGB"), (i * width, 0))
    return strip.resize((strip.width * TIMELINE_ZOOM, strip.height * TIMELINE_ZOOM), Image.Resampling.NEAREST)


@show_errors
def generate_image(
    prompt: str,
    negative_prompt: str,
    backend: str,
    model: str,
    seed: int,
    num_images: int,
    num_inference_steps: int,
    guidance_scale: float,
    scheduler: str,
    base_url: str = "",
    api_key: str = "",
    progress: gr.Progress = gr.Progress(),
) -> tuple[list[str], list[dict], Generated]:
    """Generate pictures; returns their PNG files (settings inside), the settings, and the run for the tab."""
    settings = image.ImageSettings(
        prompt, negative_prompt, backend, model, seed, num_images, num_inference_steps, guidance_scale, scheduler
    )
    progress(0, desc="loading the model")

    def on_step(done: int, total: int) -> None:
        progress((done, total), desc="denoising", unit="steps")

    result = image.generate_image(settings, on_step, base_url, api_key)
    files = [str(metadata.save_png(picture, s)) for picture, s in zip(result.images, result.settings)]
    return files, result.settings, Generated(result.images, result.settings, files, result.timeline, settings.ours)


def vocabulary_note(prompt: str) -> str:
    """A visible note for the words of a prompt our models do not know ("" when it has none)."""
    unknown = world.read_prompt(prompt).unknown
    if not unknown:
        return ""
    words = " and ".join(f"'{w}'" for w in unknown) if len(unknown) < 3 else ", ".join(f"'{w}'" for w in unknown)
    many = len(unknown) > 1
    return (f"⚠️ {words} {'are' if many else 'is'} not in this model's vocabulary: it learned only the words under "
            f"*What this model knows*, so its pictures cannot show {'them' if many else 'it'}.")


def layout_note(prompt: str) -> str:
    """For a prompt of several objects: the regions our diffusion model drew them in ("" when it drew no layout)."""
    regions = planner.plan(prompt)
    if not regions:
        return ""
    return (f"**Layout**: {len(regions)} regions, each drawn with its own words: "
            + " · ".join(f"“{r.prompt}”" for r in regions))


def _checks_line(verdict: Verdict) -> str:
    return f"{verdict_text(verdict)} — **{verdict.honoured} of {len(verdict.checks)}**"


@show_errors
def show_checks(generated: Generated | None) -> str:
    """Under the pictures: for each one, the details of the prompt it honours ✓ and does not ✗ (our models only),
    after notes on the prompt's words outside the vocabulary and on the layout its objects were drawn in."""
    if generated is None:
        return gr.skip()
    if not generated.ours:
        return NOT_OURS
    prompt = generated.settings[0]["prompt"]
    if not prompt.strip():
        return "A random picture: the prompt asked for nothing, so there is nothing to check."
    notes = [vocabulary_note(prompt), layout_note(prompt) if generated.settings[0]["backend"] == "diffusion" else ""]
    verdicts = judge_pictures(prompt, generated.images)
    if not verdicts[0].checks:
        lines = ["The prompt names nothing the judge can check: ask for an object of *What this model knows*."]
    else:
        lines = [CHECKS_HEADING, *(f"{i}. (seed {s['seed']}) {_checks_line(v)}"
                                   for i, (v, s) in enumerate(zip(verdicts, generated.settings), 1))]
    return "\n\n".join([*(n for n in notes if n), *lines])


@show_errors
def judge_image(prompt: str, image: dict | None) -> tuple[list[dict], int, str]:
    """Judge one uploaded picture against a prompt: its checks (detail, kind, honoured, found), how many are honoured,
    and the same as a line of text."""
    if not image:
        raise ValueError("image must be a picture uploaded to this app, got none")
    picture = metadata.read_upload(image["path"])  # a FileData of an uploaded file (ui.inputs checked it)
    verdict = judge_pictures(prompt, [picture])[0]
    line = _checks_line(verdict) if verdict.checks else "The prompt names nothing the judge can check."
    note = vocabulary_note(prompt)
    return [asdict(c) for c in verdict.checks], verdict.honoured, f"{note}\n\n{line}" if note else line


@show_errors
def apply_postprocessing(generated: Generated | None, brightness: float, contrast: float, saturation: float,
                         sharpness: float, upscale: str):
    """The run's pictures with the post-processing applied, as new PNGs whose settings include it."""
    if generated is None:
        return gr.skip(), gr.skip()
    post = PostProcessing(brightness, contrast, saturation, sharpness, int(str(upscale).rstrip("×x")))
    if post.is_identity and all(Path(f).is_file() for f in generated.files):
        return generated.files, generated.settings  # nothing to apply: the generation's own PNGs (unless pruned)
    settings = [s if post.is_identity else {**s, "postprocess": post.as_dict()} for s in generated.settings]
    files = [str(metadata.save_png(postprocess(p, post), s)) for p, s in zip(generated.images, settings)]
    return files, settings


def show_timeline(generated: Generated | None):
    if generated is None or generated.timeline is None or len(generated.timeline.steps) < 2:
        return gr.update(visible=False), gr.update(visible=False)
    last = len(generated.timeline.steps) - 1
    return (gr.update(visible=True, maximum=last, value=last),
            gr.update(visible=True, value=_side_by_side(generated.timeline.final)))


@show_errors
def timeline_frame(generated: Generated | None, index: float):
    """The pictures at the step under the slider, decoded now if no one looked at them before."""
    if generated is None or generated.timeline is None:
        return gr.skip()
    steps = generated.timeline.steps
    chosen = min(max(int(index), 0), len(steps) - 1)
    return gr.update(value=_side_by_side(generated.timeline.pictures(chosen)),
                     label=f"What the model expects the pictures to become, after step {steps[chosen]} of {steps[-1]}")


@show_errors
def restore_settings(file: dict | None):
    """Settings read back from a PNG made by this app, put into the controls."""
    if not file:
        return [gr.skip()] * 14
    s = metadata.read_settings(file["path"])  # a FileData of an uploaded file (ui.inputs checked it)
    post = s.get("postprocess", {}) if isinstance(s.get("postprocess"), dict) else {}
    backend = s.get("backend") if s.get("backend") in image.BACKENDS else gr.skip()
    gr.Info("Settings restored from the PNG: Generate makes the same picture again.")
    return (
        s.get("prompt", gr.skip()), s.get("negative_prompt", ""), backend,
        gr.update(choices=MODELS.get(s.get("backend"), MODELS["diffusion"]), value=s.get("model")) if "model" in s else gr.skip(),
        s.get("seed", gr.skip()), 1, s.get("num_inference_steps", gr.skip()), s.get("guidance_scale", gr.skip()),
        s.get("scheduler", gr.skip()),
        *(post.get(name, 1.0) for name in POSTPROCESS_SLIDERS),
        f"{post.get('upscale', 1)}×",
    )


def _backend_changed(backend: str, model: str):
    """Show the backend's settings; keep the model when it fits the backend (e.g. restored from a PNG)."""
    diffusion = backend == "diffusion"
    others = [value for b, choices in MODELS.items() if b != backend for _, value in choices if value]
    fits = model in [value for _, value in MODELS[backend]] or (diffusion and model and model not in others)
    return (
        gr.update(choices=MODELS[backend], value=model if fits else ""),
        gr.update(visible=backend == "openai"),
        gr.update(visible=diffusion),
        gr.update(visible=diffusion),
    )


def build_image_tab() -> gr.Gallery:
    """Lay out the Image tab inside the current Blocks context and wire its events; returns the gallery
    (the Video tab can start from its pictures)."""
    with gr.Row():
        with gr.Column(scale=2):
            backend = gr.Radio(list(image.BACKENDS), value="diffusion", label="Backend", info="gan: one step, instant · diffusion: step-by-step denoising · openai: the OpenAI Images API or a compatible server", elem_id="image-backend")
            model = gr.Dropdown(MODELS["diffusion"], value="", allow_custom_value=True, label="Model", info="ours work offline; a hub id or a local pipeline folder works too (hub: online only)", elem_id="image-model")
            with gr.Group(visible=False) as openai_settings:
                base_url = gr.Textbox("", label="Base URL", placeholder="empty: OpenAI · or a compatible server, e.g. this app's http://127.0.0.1:7860/v1")
                api_key = gr.Textbox("", label="API key", type="password", placeholder="empty: the server's OPENAI_API_KEY", info="kept in this browser tab only; never stored or logged")
            prompt = gr.Textbox("", label="Prompt", lines=2, placeholder="e.g. a red apple — or leave empty for a random picture", elem_id="image-prompt")
            negative_prompt = gr.Textbox("", label="Negative prompt", placeholder="what to steer away from, e.g. green", elem_id="image-negative")
            generate = gr.Button("Generate", variant="primary", elem_id="image-generate")
            with gr.Row():
                seed = gr.Number(0, precision=0, minimum=0, maximum=config.MAX_SEED, label="Seed", scale=3, elem_id="image-seed")
                new_seed = gr.Button("🎲 New seed", scale=1)
            num_images = gr.Slider(1, config.MAX_NUM_IMAGES, value=4, step=1, label="Number of pictures", info="picture i uses seed + i")
            with gr.Group() as diffusion_settings:
                num_inference_steps = gr.Slider(1, config.MAX_INFERENCE_STEPS, value=image.ImageSettings.num_inference_steps, step=1, label="Steps", info="denoising steps: more is slower, rarely much better with DPM-Solver++")
                guidance_scale = gr.Slider(0, config.MAX_GUIDANCE_SCALE, value=image.ImageSettings.guidance_scale, step=0.5, label="Guidance scale", info="how strongly the prompt steers; 1 = no guidance")
                scheduler = gr.Dropdown(list(image.SCHEDULERS), value=image.ImageSettings.scheduler, label="Scheduler", info="how the noise is removed step by step")
            with gr.Accordion("How it works", open=False):
                gr.Markdown(HOW_IT_WORKS)
            with gr.Accordion("PNG info: drop a picture made here to restore its settings", open=False):
                png_file = gr.File(label="PNG made by this app", file_types=[".png"], type="filepath", elem_id="image-png-info")
            with gr.Accordion("Judge a picture: which details of the prompt above does it show?", open=False):
                judge_picture = gr.Image(None, label="Picture (resized to 64 × 64 for the judge)", type="filepath", sources=["upload", "clipboard"], height=180, elem_id="image-judge-picture")
                judge_button = gr.Button("Judge", size="sm", elem_id="image-judge")
                judge_summary = gr.Markdown(label="Summary", elem_id="image-judge-summary")
                with gr.Row():
                    judge_checks = gr.JSON(label="Checks", elem_id="image-judge-checks")
                    judge_honoured = gr.Number(label="Details honoured", precision=0, interactive=False, elem_id="image-judge-honoured")
        with gr.Column(scale=3):
            gallery = gr.Gallery(label="Pictures", columns=4, height=340, format="png", buttons=["download", "fullscreen"], interactive=False, elem_id="image-gallery")
            checks_view = gr.Markdown(elem_id="image-checks")
            with gr.Accordion("Post-processing (no new generation)", open=True):
                with gr.Row():
                    brightness = gr.Slider(0, 3, value=1, step=0.05, label="Brightness", elem_id="image-brightness")
                    contrast = gr.Slider(0, 3, value=1, step=0.05, label="Contrast", elem_id="image-contrast")
                with gr.Row():
                    saturation = gr.Slider(0, 3, value=1, step=0.05, label="Colour saturation", elem_id="image-saturation")
                    sharpness = gr.Slider(0, 3, value=1, step=0.05, label="Sharpness", elem_id="image-sharpness")
                upscale = gr.Radio([f"{u}×" for u in UPSCALES], value="1×", label="Upscale (Lanczos)", elem_id="image-upscale")
            timeline_step = gr.Slider(0, 1, value=0, step=1, label="Denoising timeline: scrub through the steps", visible=False, elem_id="image-timeline-step")
            timeline_image = gr.Image(label="Timeline", interactive=False, visible=False, format="png", elem_id="image-timeline")
            settings_view = gr.JSON(label="Settings of each picture (stored in its PNG)", elem_id="image-settings")
            generated = gr.State(None, time_to_live=3600)
    gr.Examples(EXAMPLES["detail"], inputs=[prompt, seed], label="A ladder of detail (same seed): each step asks for more; the checks under the pictures show what each picture honours")
    gr.Examples(EXAMPLES["guidance"], inputs=[prompt, seed, guidance_scale], elem_id="image-guidance-examples", label=f"Guidance (diffusion, same prompt and seed): 1 is no guidance, loose shapes; {image.ImageSettings.guidance_scale:g}, the default, follows the prompt; 9 over-steers: colours burn and the background takes a tint")
    with gr.Accordion("What this model knows", open=False, elem_id="image-vocabulary"):
        with gr.Row():
            gr.Image(str(OBJECT_SHEET), label="The objects", show_label=False, interactive=False, buttons=["fullscreen"], scale=3)
            gr.Markdown(VOCABULARY, scale=2)

    post_inputs = [generated, brightness, contrast, saturation, sharpness, upscale]
    backend.change(_backend_changed, [backend, model], [model, openai_settings, diffusion_settings, negative_prompt], api_visibility="private")
    new_seed.click(lambda: random.randint(0, config.MAX_SEED), None, seed, api_visibility="private")
    run = gr.on(
        [generate.click, prompt.submit],
        generate_image,
        inputs=[prompt, negative_prompt, backend, model, seed, num_images, num_inference_steps, guidance_scale, scheduler, base_url, api_key],
        outputs=[gallery, settings_view, generated],
        api_name="generate_image",
        preprocess=False,
    )
    run.success(show_checks, generated, checks_view, api_visibility="private")
    run.success(show_timeline, generated, [timeline_step, timeline_image], api_visibility="private").then(
        apply_postprocessing, post_inputs, [gallery, settings_view], api_visibility="private"
    )
    timeline_step.change(timeline_frame, [generated, timeline_step], timeline_image, api_visibility="private", show_progress="hidden")
    gr.on(
        [s.change for s in (brightness, contrast, saturation, sharpness, upscale)],
        apply_postprocessing, post_inputs, [gallery, settings_view], api_visibility="private",
        trigger_mode="always_last", show_progress="hidden",
    )
    gr.on(
        [judge_button.click, judge_picture.upload],
        judge_image,
        inputs=[prompt, judge_picture],
        outputs=[judge_checks, judge_honoured, judge_summary],
        api_name="judge_image",
        preprocess=False,
    )
    png_file.upload(
        restore_settings, png_file,
        [prompt, negative_prompt, backend, model, seed, num_images, num_inference_steps, guidance_scale, scheduler,
         brightness, contrast, saturation, sharpness, upscale],
        api_visibility="private", preprocess=False,
    )
    return gallery
