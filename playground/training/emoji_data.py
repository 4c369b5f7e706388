"""Emoji dataset for the Image tab's models: Noto emoji pictures with captions at four levels of detail.

    python -m playground.training.emoji_data --out DIR [--size 32|64] [--limit N] [--cache-dir DIR]

Steps: fetch the two npm packages into a cache folder (never into git), join the images
(emoji-datasource-google: 64 px PNGs and emoji.json) with their English names and tags
(emojibase-data: en/data.json) by codepoint, composite each picture on a plain background,
find its dominant colour words from the pixels, write captions from vague to detailed, and
split by emoji into train and held-out sets. The output folder holds, for each split,
images.npy (uint8, N x S x S x 3) and captions.jsonl (one EmojiRecord per line, same order),
plus LICENSES.md. Training code reads it back with load_split.

Colour words come from the pixels rather than from the names, so that "red", "yellow", "blue"
mean the same thing in every caption and a model can learn them.
"""

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
from PIL import Image

from playground import config
from playground.image.pictures import BACKGROUND, COLOUR_WORDS, colour_words
from playground.validation import check_choice, check_int

# The packages, pinned so that a rebuild gives the same dataset.
IMAGES_PACKAGE = "emoji-datasource-google"
IMAGES_VERSION = "16.0.0"
DATA_PACKAGE = "emojibase-data"
DATA_VERSION = "17.0.0"
# What we keep from each tarball (prefixes of member names); the rest (sprite sheets, other
# languages) is skipped to save disk.
PACKAGE_FILES = {
    IMAGES_PACKAGE: ("package/emoji.json", "package/img/google/64/", "package/LICENSE", "package/package.json"),
    DATA_PACKAGE: ("package/en/data.json", "package/en/messages.json", "package/LICENSE", "package/package.json"),
}
# Written next to a package once its tarball is fully extracted; its presence skips the download.
EXTRACTED_MARKER = ".extracted"

IMAGE_SIZES = (32, 64)  # output sizes in pixels; the source images are 64 px
SPLITS = ("train", "heldout")
HELDOUT_PERCENT = 10  # share of emoji (not images) held out for evaluation
MAX_TAGS = 3  # tags added to the most detailed caption
# Tags shorter than this, or with digits or signs, are chat slang or codes ("+1", "143", "g2g", "AM").
MIN_TAG_LETTERS = 3
MAX_LIMIT = 100_000  # --limit is a number of emoji; far above the ~1 900 that exist

# Skin-tone modifiers as they appear in emoji.json's skin_variations keys.
SKIN_TONES = {"1F3FB": "light", "1F3FC": "medium-light", "1F3FD": "medium", "1F3FE": "medium-dark", "1F3FF": "dark"}
VARIATION_SELECTOR = "FE0F"  # present or not depending on the source; ignored when joining

# The vaguest caption: one word per emojibase group, or per subgroup where the group is too mixed
# (the subgroup key's first part, e.g. "animal-bird" -> "animal").
GROUP_WORDS = {
    "smileys-emotion": "smiley",
    "people-body": "person",
    "component": "component",
    "animals-nature": "nature",
    "food-drink": "food",
    "travel-places": "place",
    "activities": "activity",
    "objects": "object",
    "symbols": "symbol",
    "flags": "flag",
}
SUBGROUP_WORDS = {
    "face": "face", "heart": "heart", "hand": "hand", "animal": "animal", "plant": "plant", "drink": "drink"
}
# Groups whose captions put the colour words after the name ("a man surfing in blue"), see captions.
COLOURS_AFTER_GROUPS = ("people-body",)


@dataclass
class EmojiRecord:
    """One image's metadata, one line of captions.jsonl."""

    codepoint: str  # the image's code sequence as in emoji.json, e.g. "1F44B-1F3FD"
    name: str  # English name from emojibase, e.g. "waving hand" (no skin tone)
    group: str  # emojibase group key, e.g. "people-body"
    subgroup: str  # emojibase subgroup key, e.g. "hand-fingers-open"
    colours: list[str]  # dominant colour words of the pixels, most covering first
    captions: list[str]  # 4 captions from vague to detailed
    skin_tone: str | None  # e.g. "medium" or "light and dark"; None for emoji without a tone


@dataclass
class EmojiSplit:
    """One split as training reads it: images[i] is described by records[i]."""

    images: np.ndarray  # uint8, N x S x S x 3
    records: list[EmojiRecord]


@dataclass
class CatalogueEntry:
    """One image of the joined packages, before its pixels are read."""

    image_path: Path
    codepoint: str
    base: str  # normalised code of the emoji without skin tone: all its variants share the split
    name: str
    group: str
    subgroup: str
    tags: list[str]
    skin_tone: str | None


# 1. Fetch


def safe_extract(tarball: Path, dest: Path, keep: tuple[str, ...]) -> int:
    """Extract the regular files whose names start with one of `keep` into dest; returns how many.

    Refuses the whole archive (ValueError) if any member has an absolute path or a `..` part, so a
    tampered package cannot write outside dest. Links and devices are never extracted.
    """
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
        for member in members:
            path = PurePosixPath(member.name)
            if path.is_absolute() or ".." in path.parts or PureWindowsPath(member.name).drive:
                raise ValueError(f"{tarball.name} has an unsafe member path {member.name!r}: absolute or with '..'")
        count = 0
        for member in members:
            if member.isfile() and member.name.startswith(keep):
                target = dest / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
                count += 1
    return count


def fetch_package(name: str, version: str, cache_dir: Path, keep: tuple[str, ...] | None = None) -> Path:
    """The extracted `package/` folder of name@version, fetched with `npm pack` unless already in cache_dir.

    Only the members starting with one of `keep` are extracted (default: PACKAGE_FILES[name]). Each call packs and
    extracts in a folder of its own and moves the finished folder into place, so processes that fetch at once (an
    evaluation beside a training run on a fresh machine) never read each other's half-written files.
    """
    folder = cache_dir / f"{name}-{version}"
    if (folder / EXTRACTED_MARKER).exists():
        return folder / "package"
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{name}-") as work:
        command = ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", work]
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=True)
        except FileNotFoundError:
            raise RuntimeError("npm is needed to fetch the emoji packages: install Node.js") from None
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"{' '.join(command)} failed: {error.stderr.strip()[-500:]}") from None
        staged = Path(work) / "extracted"
        safe_extract(Path(work) / json.loads(result.stdout)[0]["filename"], staged,
                     PACKAGE_FILES[name] if keep is None else keep)
        (staged / EXTRACTED_MARKER).touch()
        if folder.exists() and not (folder / EXTRACTED_MARKER).exists():
            shutil.rmtree(folder)  # half-extracted by an interrupted run of older code
        try:
            staged.rename(folder)
        except OSError:
            if not (folder / EXTRACTED_MARKER).exists():  # else another process finished first, as well as ours
                raise
    return folder / "package"


def fetch_packages(cache_dir: Path) -> tuple[Path, Path]:
    """The extracted images package and data package (fetch_package for both), in that order."""
    return fetch_package(IMAGES_PACKAGE, IMAGES_VERSION, cache_dir), fetch_package(DATA_PACKAGE, DATA_VERSION, cache_dir)


# 2. Join the packages


def normalise_code(code: str) -> str:
    """Join key for a code sequence: upper case, without variation selectors ("2764-fe0f" -> "2764")."""
    return "-".join(part for part in code.upper().split("-") if part != VARIATION_SELECTOR)


def caption_name(label: str) -> str:
    """A caption-friendly name: "flag: Japan" -> "flag of Japan", "family: man, girl" -> "family: man and girl"."""
    if label.startswith("flag: "):
        return "flag of " + label.removeprefix("flag: ")
    return label.replace(", ", " and ")


def _skin_tone(key: str) -> str:
    """emoji.json skin key -> words: "1F3FD" -> "medium", "1F3FB-1F3FF" -> "light and dark"."""
    tones = list(dict.fromkeys(SKIN_TONES[part] for part in key.split("-")))
    return " and ".join(tones)


def read_catalogue(
    images_root: Path, data_root: Path, limit: int | None = None, vendor: str = "google"
) -> list[CatalogueEntry]:
    """Every image of the first `limit` emoji (all when None) in emoji.json's order, joined with emojibase.

    vendor is the image set of an emoji-datasource-<vendor> package ("google", "twitter"). Images
    without a picture of that vendor or without an emojibase entry (none in the pinned versions) are left out.
    """
    emoji = sorted(json.loads((images_root / "emoji.json").read_text()), key=lambda e: e["sort_order"])
    data = json.loads((data_root / "en" / "data.json").read_text())
    messages = json.loads((data_root / "en" / "messages.json").read_text())
    groups = {g["order"]: g["key"] for g in messages["groups"]}
    subgroups = {g["order"]: g["key"] for g in messages["subgroups"]}
    by_code = {}
    for entry in data:
        by_code[normalise_code(entry["hexcode"])] = entry
        for skin in entry.get("skins") or []:
            by_code[normalise_code(skin["hexcode"])] = entry  # a skin variant takes its base's name and tags

    image_folder = images_root / "img" / vendor / "64"
    entries = []
    for item in emoji[:limit]:
        base = normalise_code(item["unified"])
        variants = [(item, None)] + [(v, _skin_tone(k)) for k, v in (item.get("skin_variations") or {}).items()]
        for variant, tone in variants:
            info = by_code.get(normalise_code(variant["unified"]))
            path = image_folder / variant["image"]
            if info is None or "group" not in info or not variant.get(f"has_img_{vendor}") or not path.exists():
                continue
            entries.append(CatalogueEntry(
                image_path=path,
                codepoint=variant["unified"],
                base=base,
                name=caption_name(info["label"]),
                group=groups[info["group"]],
                subgroup=subgroups[info["subgroup"]],
                tags=info.get("tags") or [],
                skin_tone=tone,
            ))
    return entries


# 3. Pixels: the picture on its background


def composite(rgba: Image.Image, size: int, background: tuple[int, int, int] = BACKGROUND) -> np.ndarray:
    """The emoji on a plain background, resized (Lanczos) to size x size: a uint8 size x size x 3 array."""
    side = max(rgba.size)
    canvas = Image.new("RGBA", (side, side), background + (255,))
    canvas.alpha_composite(rgba, ((side - rgba.width) // 2, (side - rgba.height) // 2))
    return np.asarray(canvas.convert("RGB").resize((size, size), Image.Resampling.LANCZOS))


# 4. Captions and split


def _article(words: str) -> str:
    return "an" if words[:1].lower() in "aeiou" else "a"


def captions(
    name: str, group: str, subgroup: str, colours: list[str], tags: list[str], skin_tone: str | None
) -> list[str]:
    """Four captions from vague to detailed, each containing the one before it from level 1 on.

    0: group word ("food", see group_word); 1: name ("red apple"); 2: article, colour words and
    name, and the skin tone ("a red apple", "a yellow and orange banana"); 3: level 2 + up to
    MAX_TAGS tags ("a red apple, diet, food"). Colour words already in the name are not repeated;
    colour tags are dropped so that colour words only ever come from the pixels, and so are slang
    and code tags. For people (COLOURS_AFTER_GROUPS) the colours follow the name, as clothing
    would ("a woman running in purple and brown, dark skin tone"), so that a colour word before
    "woman" or "man" is never read as describing a person's ethnicity.
    """
    name_words = set(name.lower().split())
    new_colours = " and ".join(c for c in colours if c not in name_words)
    if not new_colours:
        described = name
    elif group in COLOURS_AFTER_GROUPS:
        described = f"{name} in {new_colours}"
    else:
        described = f"{new_colours} {name}"
    level2 = f"{_article(described)} {described}"
    if skin_tone:
        level2 += f", {skin_tone} skin tone{'s' if ' and ' in skin_tone else ''}"
    extra = [
        t for t in tags
        if t.isalpha() and len(t) >= MIN_TAG_LETTERS and t.lower() not in name_words and t.lower() not in COLOUR_WORDS
    ][:MAX_TAGS]
    return [group_word(group, subgroup), name, level2, ", ".join([level2, *extra])]


def group_word(group: str, subgroup: str) -> str:
    """The level-0 caption word of an emojibase group/subgroup (see GROUP_WORDS and SUBGROUP_WORDS)."""
    return SUBGROUP_WORDS.get(subgroup.split("-")[0], GROUP_WORDS.get(group, group))


def is_heldout(base: str) -> bool:
    """Whether an emoji (by its normalised base code) is held out: a stable hash, ~HELDOUT_PERCENT % of emoji."""
    digest = hashlib.sha256(base.encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HELDOUT_PERCENT


# 5. Build, write, load


def build_splits(images_root: Path, data_root: Path, size: int = 64, limit: int | None = None) -> dict[str, EmojiSplit]:
    """Read the extracted packages and return the train and heldout splits at size x size pixels."""
    if size not in IMAGE_SIZES:
        raise ValueError(f"size must be one of {', '.join(map(str, IMAGE_SIZES))}, got {size!r}")
    if limit is not None:
        limit = check_int("limit", limit, 1, MAX_LIMIT)
    entries = read_catalogue(images_root, data_root, limit)
    parts: dict[str, tuple[list[np.ndarray], list[EmojiRecord]]] = {split: ([], []) for split in SPLITS}
    for entry in entries:
        with Image.open(entry.image_path) as image:
            rgba = image.convert("RGBA")
        colours = colour_words(np.asarray(rgba))
        record = EmojiRecord(
            codepoint=entry.codepoint,
            name=entry.name,
            group=entry.group,
            subgroup=entry.subgroup,
            colours=colours,
            captions=captions(entry.name, entry.group, entry.subgroup, colours, entry.tags, entry.skin_tone),
            skin_tone=entry.skin_tone,
        )
        images, records = parts["heldout" if is_heldout(entry.base) else "train"]
        images.append(composite(rgba, size))
        records.append(record)
    return {
        split: EmojiSplit(np.array(images, dtype=np.uint8).reshape(-1, size, size, 3), records)
        for split, (images, records) in parts.items()
    }


def write_splits(splits: dict[str, EmojiSplit], out: Path) -> None:
    """out/<split>/images.npy and out/<split>/captions.jsonl for each split."""
    for split, data in splits.items():
        folder = out / split
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "images.npy", data.images)
        lines = (json.dumps(asdict(record), ensure_ascii=False) + "\n" for record in data.records)
        (folder / "captions.jsonl").write_text("".join(lines), encoding="utf-8")


def load_split(folder: Path | str, split: str) -> EmojiSplit:
    """A split written by write_splits (split is "train" or "heldout")."""
    split = check_choice("split", split, SPLITS)
    path = Path(folder) / split
    images = np.load(path / "images.npy")
    with open(path / "captions.jsonl", encoding="utf-8") as lines:
        records = [EmojiRecord(**json.loads(line)) for line in lines]
    if len(records) != len(images):
        raise ValueError(f"{path} has {len(images)} images but {len(records)} captions")
    return EmojiSplit(images, records)


def write_licenses(out: Path, images_root: Path, data_root: Path) -> None:
    """out/LICENSES.md: where the pictures and the names come from, their versions and licences."""
    def version(root: Path) -> str:
        return json.loads((root / "package.json").read_text())["version"]

    def notice(root: Path) -> str:
        path = root / "LICENSE"
        return path.read_text().strip() if path.exists() else "(no LICENSE file in the package)"

    (out / "LICENSES.md").write_text(
        f"""# Licences of the emoji dataset

| What | npm package, files | Version | Licence |
|---|---|---|---|
| Images (Noto Emoji, by Google) | `{IMAGES_PACKAGE}`, `img/google/64/` | {version(images_root)} | Apache-2.0 |
| Names, tags, groups | `{DATA_PACKAGE}`, `en/data.json`, `en/messages.json` | {version(data_root)} | MIT |
| Image index | `{IMAGES_PACKAGE}`, `emoji.json` | {version(images_root)} | MIT |

The images were composited on a plain background and resized; the captions are built from the
names and tags and from colour words computed from the pixels.

## {IMAGES_PACKAGE} (MIT, for emoji.json; the Google images are Apache-2.0)

```
{notice(images_root)}
```

## {DATA_PACKAGE} (MIT)

```
{notice(data_root)}
```
""",
        encoding="utf-8",
    )


def summary(splits: dict[str, EmojiSplit], examples: int = 6) -> str:
    """Counts per split, a few example captions, and how often each colour word is used."""
    lines = []
    for split, data in splits.items():
        emoji = len({r.name for r in data.records})
        shape = "x".join(map(str, data.images.shape))
        lines.append(f"{split}: {len(data.records)} images of {emoji} emoji, array {shape} {data.images.dtype}")
    records = [r for data in splits.values() for r in data.records]
    lines.append("examples:")
    for record in records[:: max(1, len(records) // examples)][:examples]:
        lines.append("  " + " | ".join(record.captions))
    histogram = Counter(word for r in records for word in r.colours)
    lines.append("colour words: " + ", ".join(f"{word} {count}" for word, count in histogram.most_common()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m playground.training.emoji_data", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--size", type=int, default=64, help=f"image size in pixels, one of {IMAGE_SIZES}")
    parser.add_argument("--limit", type=int, default=None, help="only the first N emoji (with their skin variants)")
    parser.add_argument(
        "--cache-dir", type=Path, default=None,
        help="where the npm packages are kept (default: $PLAYGROUND_CACHE_DIR/npm, ~/.cache/generative-playground/npm)",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        cache_dir = args.cache_dir or config.CACHE_DIR / "npm"
        images_root, data_root = fetch_packages(cache_dir)
        splits = build_splits(images_root, data_root, args.size, args.limit)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    write_splits(splits, args.out)
    write_licenses(args.out, images_root, data_root)
    print(summary(splits))
    print(f"wrote {args.out} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
