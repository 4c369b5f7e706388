"""The emoji dataset builder, on a tiny fake copy of the two npm packages (no network)."""

import io
import json
import subprocess
import tarfile
import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from playground.image.pictures import BACKGROUND, colour_words
from playground.training import emoji_data
from playground.training.emoji_data import (
    DATA_PACKAGE,
    DATA_VERSION,
    EXTRACTED_MARKER,
    IMAGES_PACKAGE,
    IMAGES_VERSION,
    build_splits,
    fetch_package,
    is_heldout,
    load_split,
    safe_extract,
    write_splits,
)

RED, BLUE, YELLOW, BROWN = (220, 30, 30), (40, 80, 220), (250, 210, 40), (150, 100, 60)


def draw(colour: tuple[int, int, int], shape: str = "circle") -> Image.Image:
    """A 64 px RGBA picture: one filled shape on a transparent background, like an emoji."""
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    box = (8, 8, 56, 56)
    (ImageDraw.Draw(image).ellipse if shape == "circle" else ImageDraw.Draw(image).rectangle)(box, fill=colour + (255,))
    return image


def heldout_code() -> str:
    """A code point that the split holds out, so the skin-tone emoji below lands in the held-out split."""
    return next(f"{n:X}" for n in range(0x1F440, 0x1F4FF) if is_heldout(f"{n:X}"))


@pytest.fixture
def cache_dir(tmp_path):
    """The two packages as fetch_package leaves them in its cache: four emoji, one with a skin variant.

    The heart is "2764-FE0F" in emoji.json but "2764" in emojibase, as in the real packages.
    """
    thumbs = heldout_code()
    images_root = tmp_path / "npm" / f"{IMAGES_PACKAGE}-{IMAGES_VERSION}" / "package"
    data_root = tmp_path / "npm" / f"{DATA_PACKAGE}-{DATA_VERSION}" / "package"
    pictures = images_root / "img" / "google" / "64"
    pictures.mkdir(parents=True)
    (data_root / "en").mkdir(parents=True)
    drawings = {
        "1f34e.png": draw(RED),
        "1f7e6.png": draw(BLUE, "square"),
        f"{thumbs.lower()}.png": draw(YELLOW),
        f"{thumbs.lower()}-1f3fd.png": draw(BROWN),
        "2764-fe0f.png": draw(RED, "square"),
    }
    for name, image in drawings.items():
        image.save(pictures / name)

    def item(unified, name, image, order, skins=None):
        entry = {"unified": unified, "name": name, "image": image, "sort_order": order, "has_img_google": True,
                 "short_names": [name.lower()], "category": "", "subcategory": ""}
        if skins:
            entry["skin_variations"] = skins
        return entry

    skin = {"unified": f"{thumbs}-1F3FD", "image": f"{thumbs.lower()}-1f3fd.png", "has_img_google": True}
    (images_root / "emoji.json").write_text(json.dumps([
        item("1F34E", "RED APPLE", "1f34e.png", 1),
        item("1F7E6", "LARGE BLUE SQUARE", "1f7e6.png", 2),
        item(thumbs, "THUMBS UP SIGN", f"{thumbs.lower()}.png", 3, {"1F3FD": skin}),
        item("2764-FE0F", "HEAVY BLACK HEART", "2764-fe0f.png", 4),
    ]))
    (data_root / "en" / "data.json").write_text(json.dumps([
        {"hexcode": "1F34E", "label": "red apple", "group": 4, "subgroup": 42,
         "tags": ["apple", "fruit", "red", "ny", "143"]},
        {"hexcode": "1F7E6", "label": "blue square", "group": 8, "subgroup": 98, "tags": ["blue", "square", "shape"]},
        {"hexcode": thumbs, "label": "thumbs up", "group": 1, "subgroup": 19, "tags": ["+1", "hand", "thumb", "up"],
         "skins": [{"hexcode": f"{thumbs}-1F3FD", "label": "thumbs up: medium skin tone", "tone": 3}]},
        {"hexcode": "2764", "label": "red heart", "group": 0, "subgroup": 14, "tags": ["heart", "love"]},
    ]))
    (data_root / "en" / "messages.json").write_text(json.dumps({
        "groups": [{"key": "smileys-emotion", "order": 0}, {"key": "people-body", "order": 1},
                   {"key": "food-drink", "order": 4}, {"key": "symbols", "order": 8}],
        "subgroups": [{"key": "heart", "order": 14}, {"key": "hand-fingers-closed", "order": 19},
                      {"key": "food-fruit", "order": 42}, {"key": "geometric", "order": 98}],
    }))
    packages = [(images_root, IMAGES_VERSION, "MIT (emoji-data)"), (data_root, DATA_VERSION, "MIT (emojibase)")]
    for root, version, licence in packages:
        (root / "package.json").write_text(json.dumps({"version": version}))
        (root / "LICENSE").write_text(licence)
        (root.parent / EXTRACTED_MARKER).touch()
    return tmp_path / "npm"


@pytest.fixture
def roots(cache_dir):
    """The extracted images package and data package."""
    images = cache_dir / f"{IMAGES_PACKAGE}-{IMAGES_VERSION}" / "package"
    return images, cache_dir / f"{DATA_PACKAGE}-{DATA_VERSION}" / "package"


def all_records(splits):
    return {r.codepoint: (split, r) for split, data in splits.items() for r in data.records}


def test_colour_words_name_the_colour_of_red_blue_and_yellow_pictures():
    assert colour_words(np.asarray(draw(RED))) == ["red"]
    assert colour_words(np.asarray(draw(BLUE, "square"))) == ["blue"]
    assert colour_words(np.asarray(draw(YELLOW))) == ["yellow"]


def test_colour_words_ignore_transparent_pixels_and_list_a_second_colour_with_a_large_share():
    image = draw(RED)
    ImageDraw.Draw(image).rectangle((8, 32, 56, 56), fill=BLUE + (255,))
    assert colour_words(np.asarray(image)) == ["blue", "red"]  # the bottom half is blue, a cap of the circle red
    assert colour_words(np.zeros((64, 64, 4), dtype=np.uint8)) == []


def test_captions_go_from_group_word_to_name_colours_and_tags(roots):
    records = all_records(build_splits(*roots, size=32))
    _, thumbs = next(v for v in records.values() if v[1].name == "thumbs up" and v[1].skin_tone is None)
    assert thumbs.colours == ["yellow"]
    # Thumbs up is in the people group: its colours follow the name.
    assert thumbs.captions == ["hand", "thumbs up", "a thumbs up in yellow", "a thumbs up in yellow, hand, thumb"]
    for earlier, later in pairwise(thumbs.captions[1:]):
        assert earlier in later and len(later) > len(earlier)
    _, apple = records["1F34E"]
    # The colour already in the name is not repeated; colour tags, tags already in the name and slang are dropped.
    assert apple.captions == ["food", "red apple", "a red apple", "a red apple, fruit"]


def test_skin_variant_has_its_tone_in_the_detailed_captions_and_shares_its_emojis_split(roots):
    records = all_records(build_splits(*roots, size=32))
    thumbs = heldout_code()
    base_split, base = records[thumbs]
    variant_split, variant = records[f"{thumbs}-1F3FD"]
    assert base_split == variant_split == "heldout"
    assert variant.skin_tone == "medium" and base.skin_tone is None
    assert variant.colours == ["brown"]
    assert [("medium skin tone" in c) for c in variant.captions] == [False, False, True, True]
    assert variant.captions[2] == "a thumbs up in brown, medium skin tone"


def test_codes_with_and_without_variation_selector_are_joined(roots):
    _, heart = all_records(build_splits(*roots, size=32))["2764-FE0F"]
    assert heart.name == "red heart" and heart.group == "smileys-emotion" and heart.captions[0] == "heart"


def test_split_is_deterministic_and_holds_out_about_a_tenth_of_the_emoji(roots):
    codes = [f"{n:X}" for n in range(0x1F300, 0x1F300 + 2000)]
    share = sum(map(is_heldout, codes)) / len(codes)
    assert 0.08 < share < 0.12
    assert [is_heldout(c) for c in codes] == [is_heldout(c) for c in codes]
    first, second = build_splits(*roots, size=32), build_splits(*roots, size=32)
    for split in first:
        assert first[split].records == second[split].records
        assert np.array_equal(first[split].images, second[split].images)


def test_written_splits_load_back_as_uint8_arrays_of_the_requested_size(roots, tmp_path):
    splits = build_splits(*roots, size=32)
    write_splits(splits, tmp_path / "out")
    for split in ("train", "heldout"):
        loaded = load_split(tmp_path / "out", split)
        assert loaded.images.dtype == np.uint8
        assert loaded.images.shape == (len(splits[split].records), 32, 32, 3)
        assert loaded.records == splits[split].records
        assert np.array_equal(loaded.images, splits[split].images)
    train = load_split(tmp_path / "out", "train")
    assert tuple(train.images[0, 0, 0]) == BACKGROUND  # a transparent corner shows the background
    with pytest.raises(ValueError, match="split must be one of 'train', 'heldout', got 'test'"):
        load_split(tmp_path / "out", "test")


def test_size_outside_the_choices_is_refused(roots):
    with pytest.raises(ValueError, match="size must be one of 32, 64, got 48"):
        build_splits(*roots, size=48)


def test_limit_keeps_the_first_emoji_with_all_their_skin_variants(roots):
    records = all_records(build_splits(*roots, size=32, limit=3))
    assert sorted(r.name for _, r in records.values()) == ["blue square", "red apple", "thumbs up", "thumbs up"]


def make_tarball(path, names):
    with tarfile.open(path, "w:gz") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
    return path


@pytest.mark.parametrize("bad_name", ["package/../../evil.txt", "/tmp/evil.txt"])
def test_tar_extraction_refuses_a_member_outside_the_destination(tmp_path, bad_name):
    tarball = make_tarball(tmp_path / "bad.tgz", ["package/emoji.json", bad_name])
    with pytest.raises(ValueError, match="unsafe member path"):
        safe_extract(tarball, tmp_path / "dest", ("package/",))
    assert not (tmp_path / "dest").exists()  # nothing is written before the whole archive is checked


def test_tar_extraction_keeps_only_the_wanted_files(tmp_path):
    tarball = make_tarball(tmp_path / "ok.tgz", ["package/emoji.json", "package/img/google/sheets/big.png"])
    assert safe_extract(tarball, tmp_path / "dest", ("package/emoji.json",)) == 1
    assert (tmp_path / "dest" / "package" / "emoji.json").read_bytes() == b"hi"
    assert not (tmp_path / "dest" / "package" / "img").exists()


def test_fetches_running_at_once_each_get_the_whole_package(tmp_path, monkeypatch):
    """Four fetches of one package at once (as an evaluation beside a training run on a fresh machine): every npm
    pack finishes before any extraction starts, and each caller still gets the whole extracted package."""
    callers = 4
    all_packed = threading.Barrier(callers)

    def fake_npm_pack(command, **kwargs):
        destination = Path(command[command.index("--pack-destination") + 1])
        make_tarball(destination / "pkg-1.0.0.tgz", ["package/emoji.json", "package/img/a.png"])
        all_packed.wait(timeout=10)
        return subprocess.CompletedProcess(command, 0, stdout=json.dumps([{"filename": "pkg-1.0.0.tgz"}]))

    monkeypatch.setattr(subprocess, "run", fake_npm_pack)
    with ThreadPoolExecutor(callers) as pool:
        folders = list(pool.map(lambda _: fetch_package("pkg", "1.0.0", tmp_path, ("package/",)), range(callers)))
    assert folders == [tmp_path / "pkg-1.0.0" / "package"] * callers
    assert (folders[0] / "emoji.json").read_bytes() == b"hi" and (folders[0] / "img" / "a.png").read_bytes() == b"hi"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pkg-1.0.0"]  # no work folder or tarball left


def test_command_line_uses_extracted_packages_without_npm_and_writes_licences(cache_dir, tmp_path, monkeypatch, capsys):
    def no_npm(*args, **kwargs):
        raise AssertionError("npm must not run when the packages are already extracted")

    monkeypatch.setattr(subprocess, "run", no_npm)
    out = tmp_path / "out"
    assert emoji_data.main(["--out", str(out), "--size", "32", "--cache-dir", str(cache_dir)]) == 0
    assert len(load_split(out, "train").records) + len(load_split(out, "heldout").records) == 5
    licences = (out / "LICENSES.md").read_text()
    for text in (IMAGES_PACKAGE, IMAGES_VERSION, DATA_PACKAGE, DATA_VERSION, "Apache-2.0", "MIT", "MIT (emojibase)"):
        assert text in licences
    printed = capsys.readouterr().out
    assert "train: " in printed and "heldout: " in printed and "colour words: " in printed


def test_command_line_bad_size_prints_the_message_and_exits_2(cache_dir, tmp_path, capsys):
    assert emoji_data.main(["--out", str(tmp_path / "out"), "--size", "48", "--cache-dir", str(cache_dir)]) == 2
    assert capsys.readouterr().err.strip() == "error: size must be one of 32, 64, got 48"
