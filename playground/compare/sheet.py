"""Export: a comparison as one PNG contact sheet (a column per prompt with its results and scores, carrying the
settings and the AI-generated marks) with its JSON report next to it, and each picture as a PNG of its own."""

import json
import math
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from playground.compare.runs import Column, Comparison
from playground.image import metadata

SHEET_CELL = 64  # pictures are drawn this large on the sheet (nearest neighbour: pixels stay sharp)
SHEET_COLUMN = 4 * SHEET_CELL + 16
SHEET_MARGIN = 16
TEXT_LINES_PER_RESULT = 6
CHECKS_LINE = 14  # under each judged picture: the number of the reference's details it honours


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(line: str, width: int = 38) -> list[str]:
    return textwrap.wrap(line, width) or [""]


def _column_lines(column: Column, reference: str) -> list[str]:
    found = column.specificity.by_category()
    diversity = "—" if column.diversity is None else f"{column.diversity:.3f}"
    adherence = "—" if column.mean_adherence is None else f"{column.mean_adherence:.3f}"
    lines = [f"specificity {column.specificity.score}"]
    lines += [f"  {category}: {', '.join(words)}" for category, words in found.items()]
    lines.append(f"adherence {adherence}" + (" (reference)" if column.prompt == reference else ""))
    if column.mean_honoured is not None:
        lines.append(f"details honoured {column.mean_honoured:.2f} of {len(column.details)}")
        lines += [f"  {count}/{len(column.verdicts)} {detail}" for detail, count in column.details]
    lines.append(f"diversity {diversity}")
    return [wrapped for line in lines for wrapped in _wrap(line)]


def _result_lines(column: Column, seeds: list[int]) -> list[str]:
    return [line for seed, result in zip(seeds, column.results)
            for line in [f"seed {seed}:", *_wrap(result.replace("\n", " "))[:TEXT_LINES_PER_RESULT]]]


def contact_sheet(comparison: Comparison) -> Image.Image:
    """The whole comparison on one picture: a column per prompt with its results and scores, rows aligned."""
    settings, columns = comparison.settings, comparison.columns
    title, small = _font(16), _font(12)
    prompts = [_wrap(column.prompt, 32) for column in columns]
    texts = [_result_lines(column, settings.seeds) if settings.modality == "text" else [] for column in columns]
    scores = [_column_lines(column, comparison.reference) for column in columns]
    width = 2 * SHEET_MARGIN + SHEET_COLUMN * len(columns)
    header = _wrap(f"Compare: {settings.modality}, {settings.backend} {settings.used()['model']}, seeds {settings.seeds}. "
                   f"Adherence to the most detailed prompt, {comparison.reference!r}: {comparison.adherence_measure}",
                   (width - 2 * SHEET_MARGIN) // 7)
    rows = math.ceil(settings.num_seeds / 4)
    row_height = SHEET_CELL + 4 + (CHECKS_LINE if any(c.mean_honoured is not None for c in columns) else 0)
    top = SHEET_MARGIN + 15 * len(header) + 12
    results_top = top + 20 * max(map(len, prompts)) + 4
    scores_top = results_top + (rows * row_height if settings.modality == "image" else 15 * max(map(len, texts))) + 8
    height = scores_top + 15 * max(map(len, scores)) + SHEET_MARGIN
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for k, line in enumerate(header):
        draw.text((SHEET_MARGIN, SHEET_MARGIN + 15 * k), line, fill="black", font=small)
    for c, column in enumerate(columns):
        x = SHEET_MARGIN + c * SHEET_COLUMN
        for k, line in enumerate(prompts[c]):
            draw.text((x, top + 20 * k), line, fill="#1e1b4b", font=title)
        for k, picture in enumerate(column.results if settings.modality == "image" else []):
            cell = picture.convert("RGB").resize((SHEET_CELL, SHEET_CELL), Image.Resampling.NEAREST)
            corner = (x + (k % 4) * (SHEET_CELL + 4), results_top + (k // 4) * row_height)
            sheet.paste(cell, corner)
            if column.mean_honoured is not None:
                verdict = column.verdicts[k]
                draw.text((corner[0], corner[1] + SHEET_CELL + 1), f"{verdict.honoured} of {len(verdict.checks)}",
                          fill="black", font=small)
        for k, line in enumerate(texts[c]):
            draw.text((x, results_top + 15 * k), line, fill="#374151", font=small)
        for k, line in enumerate(scores[c]):
            draw.text((x, scores_top + 15 * k), line, fill="black", font=small)
    return sheet


def export(comparison: Comparison, files: list[list[str]] | None = None, sheet: Path | None = None) -> tuple[Path, Path]:
    """The comparison as a PNG sheet (carrying the settings and the AI-generated marks) and as JSON next to it;
    by default in the output folder."""
    report = comparison.report(files)
    sheet = sheet or metadata.output_path(".png")
    settings = {**report["settings"], "prompts": [c.prompt for c in comparison.columns]}
    contact_sheet(comparison).save(sheet, format="PNG", pnginfo=metadata.png_info(settings))
    path = sheet.with_suffix(".json")
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    return sheet, path


def save_pictures(comparison: Comparison) -> list[list[str]]:
    """Each picture as a PNG carrying the settings that remake it, per prompt in seed order."""
    settings = comparison.settings
    return [[str(metadata.save_png(picture, settings.image_settings(column.prompt).for_image(seed)))
             for picture, seed in zip(column.results, settings.seeds)] for column in comparison.columns]
