"""The Compare tab's picture scores: the judge's details honoured per picture and per column (a tiny judge loaded
through the real code, or verdicts written by hand), the checks a removed detail costs, the export and the chart."""

import json

import pytest
from PIL import Image

from playground import compare
from playground.compare import Column, CompareSettings, Comparison, runs
from playground.compare.scores import ASPECTS, score_results, share_differing, share_honoured
from playground.compare.sheet import _column_lines
from playground.image import metadata
from playground.image.judge import Check, Found, Seen, Verdict
from playground.ui import compare as tab

DETAILS = ("cat", "blue cat", "cat in the top left corner")
BLUE, RED = (50, 100, 220), (220, 40, 40)


def verdict(*honoured: bool) -> Verdict:
    return Verdict(tuple(Check(d, "object", h, "" if h else "centre") for d, h in zip(DETAILS, honoured, strict=True)))


def plain(colour: tuple[int, int, int], size: int = 64) -> Image.Image:
    return Image.new("RGB", (size, size), colour)


def judged_comparison() -> Comparison:
    """A cat, then a blue cat in the top left corner: two pictures each, their checks written by hand."""
    settings = CompareSettings(backend="gan", seed=3, num_seeds=2)
    vague = [verdict(True, False, False), verdict(False, False, False)]
    detailed = [verdict(True, True, False), verdict(True, False, False)]
    columns = [Column(prompt, [plain(RED), plain(BLUE)], compare.specificity(prompt), [share_honoured(v) for v in vs],
                      0.2, vs)
               for prompt, vs in (("a cat", vague), ("a blue cat in the top left corner", detailed))]
    return Comparison(settings, "a blue cat in the top left corner", columns)


def test_each_picture_scores_the_share_of_the_references_details_the_judge_finds_honoured(tiny_judge):
    # the background's colour is read from the picture's own pixels; the tiny untrained judge names no cat
    adherence, _, verdicts = score_results([plain(BLUE), plain(RED), plain(BLUE, 32)], "a cat on a blue background",
                                           "image", judged=True)
    assert [[(c.detail, c.honoured) for c in v.checks] for v in verdicts] == [
        [("cat", False), ("blue background", True)], [("cat", False), ("blue background", False)],
        [("cat", False), ("blue background", True)]]
    assert adherence == [0.5, 0.0, 0.5]


def test_pictures_the_judge_does_not_know_or_cannot_check_are_not_measured(tiny_judge):
    assert score_results([plain(BLUE)] * 2, "a cat", "image", judged=False)[::2] == ([], [])
    adherence, _, verdicts = score_results([plain(BLUE)] * 2, "a smiling face", "image", judged=True)
    assert adherence == [] and [v.checks for v in verdicts] == [(), ()]
    column = Column("a smiling face", [plain(BLUE)] * 2, compare.specificity("a smiling face"), adherence, 0.0, verdicts)
    comparison = Comparison(CompareSettings(backend="gan", num_seeds=2), "a smiling face", [column])
    assert column.mean_adherence is None and column.mean_honoured is None
    report = comparison.report()
    assert report["columns"][0]["adherence"] is None and "details" not in report["columns"][0]
    assert report["adherence_measure"] == "not measured: the reference prompt asks for nothing in the judge's vocabulary"
    assert report["not_checked"] == ["smiling", "face"]
    assert tab._specificity_chart(comparison) is None  # nothing to chart
    hub = Comparison(CompareSettings(backend="openai", num_seeds=2), "a cat", [column])
    assert hub.adherence_measure.startswith("not measured: the judge checks only pictures of our own models")


def test_the_diversity_of_pictures_is_their_mean_pixel_difference():
    black, white = plain((0, 0, 0)), plain((255, 255, 255))
    assert score_results([black, black, white], "a cat", "image", judged=False)[1] == pytest.approx(2 / 3)
    assert score_results([black], "a cat", "image", judged=False)[1] is None


def test_the_diversity_of_judged_pictures_is_the_share_of_what_the_judge_sees_that_differs():
    def apple(centre: tuple[float, float], colour: str = "red") -> Found:
        return Found("apple", 0.9, (centre[0] - 8, centre[1] - 8, centre[0] + 8, centre[1] + 8), (colour,))

    one = Seen((apple((10, 10)),), "noto", ("light grey",))
    assert share_differing(one, one) == 0
    assert share_differing(one, Seen((apple((11, 12)),), "noto", ("light grey",))) == 0  # same area of the frame
    moved_on_blue = Seen((apple((54, 54)),), "noto", ("blue",))
    assert share_differing(one, moved_on_blue) == pytest.approx(2 / len(ASPECTS))  # where, background
    two_green_in_flat = Seen((apple((10, 10), "green"), apple((54, 10), "green")), "flat", ("light grey",))
    assert share_differing(one, two_green_in_flat) == pytest.approx(4 / len(ASPECTS))  # colours, count, where, style
    nothing = Seen((), "noto", ("light grey",))
    assert share_differing(one, nothing) == pytest.approx(4 / len(ASPECTS))  # objects, colours, count, where


def test_a_columns_score_is_the_mean_over_its_pictures_with_each_detail_counted():
    vague, detailed = judged_comparison().columns
    assert (detailed.mean_adherence, detailed.mean_honoured) == (pytest.approx(0.5), 1.5)
    assert detailed.details == [("cat", 2), ("blue cat", 1), ("cat in the top left corner", 0)]
    assert (vague.mean_adherence, vague.mean_honoured) == (pytest.approx(1 / 6), 0.5)


def test_which_words_mattered_shows_the_judges_checks_each_removed_detail_costs(tiny_judge, monkeypatch):
    # pictures of the prompt that still asks for the blue background are blue, the others red
    monkeypatch.setattr(runs, "_results", lambda prompts, *_: [[plain(BLUE if "blue background" in p else RED)] * 2
                                                                for p in prompts])
    full, effects = compare.words_that_mattered("a red cat on a blue background", CompareSettings(backend="gan", num_seeds=2))
    assert full == pytest.approx(1 / 3)  # of cat, red cat, blue background: the background
    assert [(e.phrase, e.prompt, e.costs) for e in effects] == [
        ("red", "a cat on a blue background", []),
        ("on a blue background", "a red cat", [("blue background", 2, 0)])]
    assert [e.drop for e in effects] == [pytest.approx(0), pytest.approx(1 / 3)]
    settings = CompareSettings(backend="gan", num_seeds=2)
    table, _ = tab.words_that_mattered("a red cat on a blue background", *(getattr(settings, name) for name in tab.SETTING_NAMES),
                                       "", "")
    assert table["checks it costs"].tolist() == ["", "✓ blue background: 2 → 0 of 2 pictures"]


@pytest.mark.parametrize(
    ("settings", "prompt", "message"),
    [
        ({"backend": "openai"}, "a blue cat",
         "which words mattered is measured on pictures by the judge, which knows only our own world: use backend 'gan', "
         "or 'diffusion' with emoji-diffusion, got backend 'openai'"),
        ({"backend": "diffusion", "model": "someone/sd-tiny"}, "a blue cat", "got backend 'diffusion' with model 'someone/sd-tiny'"),
        ({"backend": "gan"}, "a smiling face", "prompt 'a smiling face' asks for nothing in the judge's vocabulary"),
    ],
)
def test_which_words_mattered_refuses_pictures_the_judge_cannot_check_before_drawing_any(settings, prompt, message,
                                                                                         monkeypatch):
    monkeypatch.setattr(runs, "_results", lambda *_: pytest.fail("no picture may be drawn"))
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        compare.words_that_mattered(prompt, CompareSettings(**settings))


def test_the_export_shows_the_details_honoured_per_column_and_per_picture(tmp_path):
    comparison = judged_comparison()
    sheet, report = compare.export(comparison, sheet=tmp_path / "sheet.png")
    data = json.loads(report.read_text())
    assert data["adherence_measure"] == "the share of the reference prompt's details the judge finds honoured in the picture"
    detailed = data["columns"][1]
    assert (detailed["adherence"], detailed["adherence_per_seed"], detailed["details_honoured"]) == (0.5, [0.6667, 0.3333], 1.5)
    assert detailed["details"] == [{"detail": "cat", "pictures_honouring": 2}, {"detail": "blue cat", "pictures_honouring": 1},
                                   {"detail": "cat in the top left corner", "pictures_honouring": 0}]
    assert detailed["checks_per_seed"][1][1] == {"detail": "blue cat", "kind": "object", "honoured": False, "found": "centre"}
    lines = _column_lines(comparison.columns[1], comparison.reference)
    assert lines[lines.index("adherence 0.500 (reference)") + 1:][:4] == [
        "details honoured 1.50 of 3", "  2/2 cat", "  1/2 blue cat", "  0/2 cat in the top left corner"]
    assert metadata.read_settings(sheet)["prompts"] == ["a cat", "a blue cat in the top left corner"]


def test_the_tab_shows_ticks_and_crosses_per_picture_and_per_column_and_charts_them_against_specificity():
    comparison = judged_comparison()
    vague, detailed = comparison.columns
    assert tab._captions(detailed, [3, 4]) == [
        "seed 3 · 2 of 3: ✓ cat · ✓ blue cat · ✗ cat in the top left corner (centre)",
        "seed 4 · 1 of 3: ✓ cat · ✗ blue cat (centre) · ✗ cat in the top left corner (centre)"]
    scores = tab._scores_markdown(detailed, comparison, best=0.5)
    assert "**Details honoured 1.50 of 3** (50%) ★ (the reference)" in scores
    assert "✓ cat 2/2 · blue cat 1/2 · ✗ cat in the top left corner 0/2" in scores
    assert scores.endswith("**Diversity 0.200** (what the judge sees)")
    chart = tab._specificity_chart(comparison)
    axes = chart.axes[0]
    assert axes.lines[0].get_xydata().tolist() == [[vague.specificity.score, 0.5], [detailed.specificity.score, 1.5]]
    assert axes.get_ylabel() == "details honoured (of 3)"
