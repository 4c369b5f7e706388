"""The Video tab: a start (prompt, uploaded picture, or the Image tab's last picture) and a motion in;
a video made frame by frame by the ConvLSTM out, with its gates as maps (one frame at a time, under a slider)
and as means plotted frame by frame."""

import json
import random

import gradio as gr
from matplotlib.figure import Figure
from PIL import Image

from playground import config, video
from playground.image.metadata import read_upload
from playground.ui.common import finished, new_chart, show_errors
from playground.video import render
from playground.video.convlstm import GateMaps
from playground.video.motions import MOTIONS

EXAMPLES = json.loads((config.ASSETS_DIR / "examples" / "video.json").read_text())
MOTION_CHOICES = [("from the prompt's words (else bounce)", video.AUTO_MOTION), *((m.replace("_", " "), m) for m in MOTIONS)]
CSS = "#video-strip img, #video-player video { image-rendering: pixelated; }"

HOW_IT_WORKS = """
**Layers, like an animator's.** The first frame is your picture (or one an image model draws from your prompt).
The network first takes it apart into two layers: the **sprite**, the thing that moves, cut out with a
transparency mask, and the **background** behind it; and it finds the point the sprite turns around. Every later
frame is that same start sprite drawn over the background at a new place, angle and size, so it stays sharp and whole.

**Frame by frame.** For each next frame, the network looks at the last frame it made and says how the sprite moves
next: a shift, a turn, a change of size. The moves add up. It is told the motion's name, never its rule; it reads
the frame it made, where the sprite is in it and the move it made (as a writer reads the last word), where the
sprite was in the start frame (a bounce falls from there, and a step can make up for a step before it that fell
short) and which frame of a bounce's 20 and a shake's 6 this is (as a transformer is told each word's position);
what it carries from frame to frame, in its memory, is how the motion has gone so far.

**An LSTM remembers.** That memory is the *cell state* of a *long short-term memory* (LSTM), carried from frame to
frame. Three gates, numbers between 0 and 1, decide what happens to it at every step:
- the **forget gate** decides what the cell state keeps (1 keeps all, 0 erases);
- the **input gate** decides what it adds from the frame just read;
- the **output gate** decides what it shows: which parts of the memory count now, for choosing the next move.

Ours is *convolutional* (a ConvLSTM): its gates and memory are maps of 16 × 16 positions over the frame, each
covering 4 × 4 pixels, so it can remember *where* things are.

**What to look for in the maps.** Move the *Frame made* slider: you see the frame the LSTM read, its three gates
and its memory at that step, where it expects the sprite in the frame it makes, and that frame. Each map is the
average over all the channels of both LSTM layers. The gates are drawn from their lowest to their highest value
in the video (the numbers under the maps): bright (yellow) where a gate is more open, dark (purple) where it is
more shut. The white lines are the edges of the frame read: see the patterns move with the sprite. Where the
sprite is, the input gate opens to write it into the memory, and the forget gate decides how much of what was
there before is kept; where the sprite has just left, that memory is rewritten. The *expected sprite* map is read
from the memory: the places the LSTM expects the sprite to cover next, a step ahead of it. The cell-state map
also brightens over the video as a whole: a few channels count the frames (how far along the motion the sprite is,
the phase of a bounce) and keep growing. An LSTM keeps whatever helps it predict the next step. The plot below
gives each map's mean, frame by frame.
"""


def gate_plot(gates: list[GateMaps]) -> Figure:
    """Mean input, forget and output gate per made frame (left axis) and mean |cell state| (right axis)."""
    frames = list(range(1, len(gates) + 1))
    figure, axes = new_chart(7, 2.8)
    means = [g.means() for g in gates]
    for name, colour in (("forget", "#2563eb"), ("input", "#16a34a"), ("output", "#ea580c")):
        axes.plot(frames, [m[name] for m in means], color=colour, label=f"{name} gate", marker=".")
    axes.set_ylim(0, 1)
    axes.set_xlabel("frame made")
    axes.set_ylabel("mean gate (0 shut, 1 open)")
    cell = axes.twinx()
    cell.plot(frames, [m["cell"] for m in means], color="#6b7280", linestyle="--", label="|cell state|")
    cell.set_ylabel("mean |cell state|")
    lines = axes.get_legend_handles_labels()[0] + cell.get_legend_handles_labels()[0]
    axes.legend(lines, [line.get_label() for line in lines], loc="lower left", fontsize=8, ncols=4)
    axes.set_title("The LSTM's gates and memory, frame by frame", fontsize=9)
    return finished(figure)


@show_errors
def generate_video(
    prompt: str = "",
    image: dict | None = None,
    motion: str = video.AUTO_MOTION,
    num_frames: int = video.VideoSettings.num_frames,
    fps: int = video.VideoSettings.fps,
    seed: int = 0,
    image_backend: str = "diffusion",
    progress: gr.Progress = gr.Progress(),
):
    """Make a video; returns the MP4, its frames, the GIF, a strip of frames, the gate plot, the settings, and
    the whole result for the gate maps' view (a gr.State: the page keeps it, the HTTP API leaves it out)."""
    settings = video.VideoSettings(prompt, motion, num_frames, fps, seed, image_backend)
    start = read_upload(image["path"]) if image else None  # a FileData of an uploaded file (ui.inputs checked it)
    progress(0, desc="making the start frame" if start is None else "loading the model")

    def on_frame(done: int, total: int) -> None:
        progress((done, total), desc="making frames", unit="frames")

    result = video.generate_video(settings, start, on_frame)
    mp4 = str(render.write_mp4(result.frames, settings.fps, result.settings))
    gif = str(render.write_gif(result.frames, settings.fps, result.settings))
    return mp4, result.frames, gif, render.frame_strip(result.frames), gate_plot(result.gates), result.settings, result


def first_gate_view(made: video.GeneratedVideo) -> tuple[gr.Slider, Image.Image]:
    """After a video is made: the gate slider spans its made frames, and the view shows the first."""
    return gr.Slider(maximum=len(made.gates), value=1, interactive=True), render.gate_view(made.frames, made.gates, 1)


@show_errors
def gate_view(made: video.GeneratedVideo | None, frame: int) -> Image.Image | None:
    """The gate maps of the made frame under the slider, from the kept video (the model does not run again)."""
    return render.gate_view(made.frames, made.gates, frame) if made else None


def last_picture(gallery: list[tuple[str, str | None]] | None) -> str | None:
    """The first picture of the Image tab's gallery (as Gallery gives it: (path, caption) pairs), as the video's start."""
    if not gallery:
        gr.Warning("The Image tab has no picture yet: generate one there first.")
        return None
    return gallery[0][0]


def build_video_tab(image_gallery: gr.Gallery) -> None:
    """Lay out the Video tab inside the current Blocks context and wire its events."""
    with gr.Row():
        with gr.Column(scale=2):
            prompt = gr.Textbox("", label="Prompt", lines=2, placeholder="e.g. a bouncing red apple — makes the start frame, unless you give a picture", elem_id="video-prompt")
            with gr.Accordion("Start from a picture instead (optional)", open=False):
                start = gr.Image(None, label="Start picture", type="filepath", sources=["upload", "clipboard"], height=200, elem_id="video-start")
                from_image_tab = gr.Button("Use the Image tab's last picture", size="sm", elem_id="video-from-image-tab")
            image_backend = gr.Radio(list(video.START_BACKENDS), value="diffusion", label="Image model for the start frame", info="used when no start picture is given")
            motion = gr.Dropdown(MOTION_CHOICES, value=video.AUTO_MOTION, label="Motion", elem_id="video-motion")
            generate = gr.Button("Make the video", variant="primary", elem_id="video-generate")
            with gr.Row():
                num_frames = gr.Slider(config.MIN_FRAMES, config.MAX_FRAMES, value=video.VideoSettings.num_frames, step=1, label="Frames", info="the start frame included", elem_id="video-frames")
                fps = gr.Slider(config.MIN_FPS, config.MAX_FPS, value=video.VideoSettings.fps, step=1, label="Frames per second", elem_id="video-fps")
            with gr.Row():
                seed = gr.Number(0, precision=0, minimum=0, maximum=config.MAX_SEED, label="Seed", info="of the start frame; the LSTM itself has no randomness", scale=3, elem_id="video-seed")
                new_seed = gr.Button("🎲 New seed", scale=1)
            with gr.Accordion("How it works", open=False):
                gr.Markdown(HOW_IT_WORKS)
        with gr.Column(scale=3):
            player = gr.Video(label="Video (MP4, H.264)", autoplay=True, loop=True, height=300, interactive=False, elem_id="video-player")
            with gr.Group():
                gate_maps = gr.Image(label="What the LSTM remembers: its gates and memory as maps", show_label=False,
                                     interactive=False, format="png", elem_id="video-gate-maps")
                gate_frame = gr.Slider(1, video.VideoSettings.num_frames - 1, value=1, step=1, label="Frame made",
                                       info="the maps of the step that made this frame (the start frame has none)",
                                       interactive=False, elem_id="video-gate-frame")
            gates = gr.Plot(label="Gates per frame (the maps' means)", elem_id="video-gates")
            strip = gr.Image(label="Frames", interactive=False, format="png", elem_id="video-strip")
            with gr.Row():
                gif = gr.File(label="GIF", interactive=False, elem_id="video-gif")
                settings_view = gr.JSON(label="Settings (stored in the MP4 and the GIF)", elem_id="video-settings")
            frames = gr.Gallery(label="Frames", visible=False, format="png")
            made = gr.State()  # the last video made, for the gate maps' view
    gr.Examples(EXAMPLES["motions"], inputs=[prompt, motion, num_frames, fps, seed], label="Prompts and motions")

    new_seed.click(lambda: random.randint(0, config.MAX_SEED), None, seed, api_visibility="private")
    from_image_tab.click(last_picture, image_gallery, start, api_visibility="private")
    gr.on(
        [generate.click, prompt.submit],
        generate_video,
        inputs=[prompt, start, motion, num_frames, fps, seed, image_backend],
        outputs=[player, frames, gif, strip, gates, settings_view, made],
        api_name="generate_video",
        preprocess=False,
    ).success(first_gate_view, made, [gate_frame, gate_maps], api_visibility="private")
    gate_frame.change(gate_view, [made, gate_frame], gate_maps, api_visibility="private", trigger_mode="always_last",
                      show_progress="hidden", concurrency_limit=None)
