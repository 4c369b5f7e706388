"""Video speed on this machine: the app's path for 32 frames at 64x64 against the bare model rollout
measured in the same run, so that noise on a shared machine cancels out in the ratios.

Prints rollout frames/s (generate_video from a start picture, against a bare loop of the model's
forward pass), the encode time (MP4 + GIF), and the end-to-end time of what the Video tab does
(start frame from a prompt or a picture, rollout, MP4, GIF, strip of frames). Goal: 32 frames from a
picture in <= 1 s, encoding included.
Run: make bench    (or .venv/bin/python benchmarks/bench_video.py --threads 1 on a busy machine)
"""

import argparse
import statistics
import sys
from pathlib import Path

import torch
from bench_image import machine, timed
from PIL import Image

sys.path.insert(0, str(Path(__file__).parents[1]))
from playground.video import VideoSettings, frame_tensor, generate_video, load_video_model, start_frame
from playground.video.convlstm import box, over, place
from playground.video.motions import MOTIONS
from playground.video.render import frame_strip, write_gif, write_mp4

FRAMES = 32
REPEATS = 5
GOAL_SECONDS = 1.0
SETTINGS = VideoSettings(prompt="a bouncing red apple", num_frames=FRAMES)


def start_picture() -> Image.Image:
    picture = Image.new("RGB", (64, 64), (240, 240, 240))
    picture.paste((220, 30, 30), (16, 16, 48, 48))
    return picture


@torch.no_grad()
def bare_rollout(frame: torch.Tensor) -> None:
    """The model's own work for FRAMES - 1 frames: take the start apart, then step and draw, each frame fed back;
    no pictures, no gate maps."""
    model = load_video_model()
    motion = torch.tensor([MOTIONS.index("bounce")])
    layers, state, made = model.separate(frame), model.initial_state(frame), frame
    pose = move = frame.new_zeros(1, 4)
    sprite = place(layers, pose)
    start_box = box(sprite[:, 3:])
    for n in range(FRAMES - 1):
        move, state, _, _ = model(made, sprite[:, 3:], motion, move, state, n, start_box)
        pose = pose + move
        sprite = place(layers, pose)
        made = over(sprite, layers.background)


def make_files(settings: VideoSettings, start: Image.Image | None) -> None:
    result = generate_video(settings, start)
    write_mp4(result.frames, settings.fps, result.settings)
    write_gif(result.frames, settings.fps, result.settings)
    frame_strip(result.frames)


def median_seconds(fn) -> float:
    return statistics.median(timed(fn)[0] for _ in range(REPEATS))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(machine())
    picture = start_picture()
    tensor = frame_tensor(start_frame(picture))[None]
    make_files(SETTINGS, None)  # warm-up: loads the text encoder, the diffusion model and the video model

    bare = median_seconds(lambda: bare_rollout(tensor))
    app = median_seconds(lambda: generate_video(SETTINGS, picture))
    frames = generate_video(SETTINGS, picture)
    encode = median_seconds(lambda: (write_mp4(frames.frames, SETTINGS.fps, frames.settings),
                                     write_gif(frames.frames, SETTINGS.fps, frames.settings)))
    from_picture = median_seconds(lambda: make_files(SETTINGS, picture))
    from_prompt = median_seconds(lambda: make_files(SETTINGS, None))

    made = FRAMES - 1
    print(f"\n{f'Rollout, {made} frames made at 64x64 after the start frame':60}{'frames/s':>10}")
    print(f"  {'app path (generate_video, from a picture)':58}{made / app:10.0f}   median of {REPEATS}")
    print(f"  {'bare model forward loop':58}{made / bare:10.0f}   median of {REPEATS}")
    print(f"  {'ratio app / bare time':58}{app / bare:10.2f}x")
    print(f"\n{f'{FRAMES} frames, shown at 256x256':60}{'seconds':>10}")
    print(f"  {'encode: MP4 (H.264) + GIF':58}{encode:10.3f}   median of {REPEATS}")
    print(f"  {'end to end from a picture (rollout, MP4, GIF, strip)':58}{from_picture:10.3f}   median of {REPEATS}")
    print(f"  {'end to end from a prompt (+ diffusion start frame)':58}{from_prompt:10.3f}   median of {REPEATS}")
    print(f"  {'ratio end to end from a picture / bare rollout':58}{from_picture / bare:10.2f}x")
    verdict = "met" if from_picture <= GOAL_SECONDS else "NOT met"
    print(f"\nGoal: {FRAMES} frames at 64x64 from a picture in <= {GOAL_SECONDS:g} s, encoding included: {verdict} "
          f"({from_picture:.2f} s; from a prompt, with the diffusion start frame: {from_prompt:.2f} s)")


if __name__ == "__main__":
    main()
