"""Command line: python -m playground text|image|video|compare ... [options]; see --help of each command.

Uses the same backend code as the app; bad input prints the message and exits with status 2.
"""

import argparse
import sys
from pathlib import Path

from playground import compare, config, image, text, video
from playground.image import metadata
from playground.text.sampling import SamplingSettings, next_token_distribution
from playground.video import render
from playground.video.motions import MOTIONS


def _text_parser(commands: argparse._SubParsersAction) -> None:
    defaults = SamplingSettings()
    parser = commands.add_parser("text", help="generate text, streamed to standard output")
    parser.add_argument("prompt")
    parser.add_argument("--backend", default="local", help="local or openai (key from OPENAI_API_KEY)")
    parser.add_argument("--model", default="", help="default: the backend's default model")
    parser.add_argument("--system-prompt", default=config.DEFAULT_SYSTEM_PROMPT)
    parser.add_argument("--temperature", type=float, default=defaults.temperature)
    parser.add_argument("--top-p", type=float, default=defaults.top_p)
    parser.add_argument("--top-k", type=int, default=defaults.top_k)
    parser.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens)
    parser.add_argument("--repetition-penalty", type=float, default=defaults.repetition_penalty)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--base-url", default="", help="an OpenAI-compatible server that needs no key, e.g. http://localhost:11434/v1 (OPENAI_API_KEY goes only to OpenAI or to OPENAI_BASE_URL)")
    parser.add_argument("--next-token", action="store_true", help="print the next-token candidates instead of generating")


def _run_text(args: argparse.Namespace) -> None:
    settings = SamplingSettings(
        args.temperature, args.top_p, args.top_k, args.max_new_tokens, args.repetition_penalty, args.seed
    )
    if args.next_token:
        scores = text.next_token_scores(args.prompt, args.backend, args.model, args.system_prompt, args.base_url)
        print(f"{'token':>16}  p(T=1)   p(T={args.temperature:g})  in top-p")
        for c in next_token_distribution(scores, args.temperature, args.top_k, args.top_p):
            print(f"{c.token!r:>16}  {c.probability:7.4f}  {c.probability_at_temperature:7.4f}  {'yes' if c.in_top_p else 'no'}")
        return
    stream = text.stream_text(args.prompt, args.backend, args.model, args.system_prompt, settings, args.base_url)
    for piece in stream:
        print(piece, end="", flush=True)
    print()


def _image_parser(commands: argparse._SubParsersAction) -> None:
    defaults = image.ImageSettings()
    parser = commands.add_parser("image", help="generate pictures and save them as PNGs carrying their settings")
    parser.add_argument("prompt", nargs="?", default="", help="empty: a random picture (our models)")
    parser.add_argument("--negative-prompt", default="")
    parser.add_argument("--backend", default=defaults.backend, help=", ".join(image.BACKENDS))
    parser.add_argument("--model", default="", help="diffusion: a hub id or pipeline folder (default: ours)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--num-images", type=int, default=1)
    parser.add_argument("--num-inference-steps", type=int, default=defaults.num_inference_steps)
    parser.add_argument("--guidance-scale", type=float, default=defaults.guidance_scale)
    parser.add_argument("--scheduler", default=defaults.scheduler, help=", ".join(image.SCHEDULERS))
    parser.add_argument("--base-url", default="", help="openai backend: a compatible server that needs no key (OPENAI_API_KEY goes only to OpenAI or to OPENAI_BASE_URL)")
    parser.add_argument("-o", "--output", type=Path, default=Path("image.png"),
                        help="the PNG to write; with several pictures, NAME-1.png, NAME-2.png, ...")


def _run_image(args: argparse.Namespace) -> None:
    settings = image.ImageSettings(
        args.prompt, args.negative_prompt, args.backend, args.model, args.seed, args.num_images,
        args.num_inference_steps, args.guidance_scale, args.scheduler,
    )
    result = image.generate_image(settings, base_url=args.base_url)
    for i, (picture, picture_settings) in enumerate(zip(result.images, result.settings), start=1):
        path = args.output if len(result.images) == 1 else args.output.with_stem(f"{args.output.stem}-{i}")
        path.parent.mkdir(parents=True, exist_ok=True)
        picture.save(path, format="PNG", pnginfo=metadata.png_info(picture_settings))
        print(path)


def _video_parser(commands: argparse._SubParsersAction) -> None:
    defaults = video.VideoSettings()
    parser = commands.add_parser("video", help="make a video frame by frame with the LSTM, from a prompt or a picture")
    parser.add_argument("--prompt", default="", help="makes the start frame (unless --image is given); may name the motion")
    parser.add_argument("--image", type=Path, default=None, help="a start picture instead of one made from the prompt")
    parser.add_argument("--motion", default=defaults.motion, help=f"{video.AUTO_MOTION} (from the prompt's words) or one of {', '.join(MOTIONS)}")
    parser.add_argument("--num-frames", type=int, default=defaults.num_frames)
    parser.add_argument("--fps", type=int, default=defaults.fps)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--image-backend", default=defaults.image_backend, help=", ".join(video.START_BACKENDS))
    parser.add_argument("-o", "--output", type=Path, default=Path("video.mp4"), help="an .mp4 (H.264) or a .gif")


def _run_video(args: argparse.Namespace) -> None:
    if args.output.suffix.lower() not in (".mp4", ".gif"):
        raise ValueError(f"output must end in .mp4 or .gif, got {args.output.name!r}")
    settings = video.VideoSettings(args.prompt, args.motion, args.num_frames, args.fps, args.seed, args.image_backend)
    start = metadata.read_upload(args.image) if args.image else None
    result = video.generate_video(settings, start)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write = render.write_gif if args.output.suffix.lower() == ".gif" else render.write_mp4
    print(write(result.frames, settings.fps, result.settings, args.output), f"({result.settings['motion']})")


def _compare_parser(commands: argparse._SubParsersAction) -> None:
    defaults = compare.CompareSettings()
    parser = commands.add_parser("compare", help="run 2-4 prompts with the same seeds and settings, and score them")
    parser.add_argument("prompts", nargs="+", help="from vague to detailed, e.g. \"a face\" \"a smiling yellow face\"")
    parser.add_argument("--modality", default=defaults.modality, help=", ".join(compare.MODALITIES))
    parser.add_argument("--backend", default="", help="image: gan, diffusion (default), openai · text: local (default), openai")
    parser.add_argument("--model", default="", help="default: the backend's default model")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--num-seeds", type=int, default=defaults.num_seeds, help="results per prompt")
    parser.add_argument("--negative-prompt", default="")
    parser.add_argument("--num-inference-steps", type=int, default=defaults.num_inference_steps)
    parser.add_argument("--guidance-scale", type=float, default=defaults.guidance_scale)
    parser.add_argument("--scheduler", default=defaults.scheduler, help=", ".join(image.SCHEDULERS))
    parser.add_argument("--system-prompt", default="")
    parser.add_argument("--temperature", type=float, default=defaults.temperature)
    parser.add_argument("--top-p", type=float, default=defaults.top_p)
    parser.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens)
    parser.add_argument("--base-url", default="", help="openai backend: a compatible server that needs no key (OPENAI_API_KEY goes only to OpenAI or to OPENAI_BASE_URL)")
    parser.add_argument("-o", "--output", type=Path, default=Path("compare.png"),
                        help="the sheet (PNG); the scores go next to it as NAME.json")


def _run_compare(args: argparse.Namespace) -> None:
    backend = args.backend or {"image": "diffusion", "text": "local"}.get(args.modality, "")
    settings = compare.CompareSettings(
        args.modality, backend, args.model, args.seed, args.num_seeds, args.negative_prompt, args.num_inference_steps,
        args.guidance_scale, args.scheduler, args.system_prompt, args.temperature, args.top_p, args.max_new_tokens,
    )
    comparison = compare.compare_prompts(args.prompts, settings, args.base_url)
    for i, column in enumerate(comparison.columns, start=1):
        words = "; ".join(f"{category}: {', '.join(w)}" for category, w in column.specificity.by_category().items())
        diversity = "-" if column.diversity is None else f"{column.diversity:.3f}"
        adherence = "-" if column.mean_adherence is None else f"{column.mean_adherence:.3f}"
        print(f"{i}. {column.prompt!r}\n   specificity {column.specificity.score} ({words or 'no detail'})\n"
              f"   adherence {adherence}   diversity {diversity}")
        if column.mean_honoured is not None:
            details = "; ".join(f"{detail} {n}/{len(column.verdicts)}" for detail, n in column.details)
            print(f"   details honoured {column.mean_honoured:.2f} of {len(column.details)} ({details})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    sheet, report = compare.export(comparison, sheet=args.output)
    print(f"adherence is measured against {comparison.reference!r}: {comparison.adherence_measure}\n"
          f"diversity is {comparison.diversity_measure}\n{sheet}\n{report}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    _text_parser(commands)
    _image_parser(commands)
    _video_parser(commands)
    _compare_parser(commands)
    args = parser.parse_args(argv)
    try:
        {"text": _run_text, "image": _run_image, "video": _run_video, "compare": _run_compare}[args.command](args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
