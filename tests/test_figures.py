"""The figures (trialreport.figures): every file written and valid, byte-identical across
runs, and the values drawn equal to the analysis-results table (or, for the two
participant-level figures, to the derived data, with the same n as the table).

The values are read back from the matplotlib Figure objects the builders return, by the
artists' gids (``artist_id``), before anything is saved.
"""

from __future__ import annotations

import ast
import copy
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from test_adam_delivery import run_stages, three_arm

from trialreport.analyse.ard import read_ard
from trialreport.figures.captions import CAPTIONS, captions
from trialreport.figures.data import FIGURE_NAMES, FORMATS, MAX_CATEGORIES
from trialreport.figures.data import arms as ard_arms
from trialreport.figures.forest import DESCRIPTIVE_MARK, subgroup_forest_figure
from trialreport.figures.means import means_by_visit_figure
from trialreport.figures.ratings import rating_distribution_figure
from trialreport.figures.stage import build_figures, write_figures
from trialreport.figures.style import OKABE_ITO, artist_id
from trialreport.figures.trajectories import MAX_TRAJECTORIES, trajectories_figure

from conftest import REFERENCE, REFERENCE_TRIAL, ROOT, reference_trial_config

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILES = [f"{name}.{fmt}" for name in FIGURE_NAMES for fmt in FORMATS]


# ---------------------------------------------------------------------------------------
# fixtures: the reference trial and the three-arm ADaM fixture, through every stage
# ---------------------------------------------------------------------------------------


class Run:
    def __init__(self, trial_id: str, trial: dict, out: Path):
        self.trial_id, self.trial, self.out = trial_id, trial, out
        self.ard = read_ard(out / "ard.csv")
        self.efficacy = pd.read_parquet(out / "derived" / "efficacy.parquet")
        self.subjects = pd.read_parquet(out / "validated" / "subjects.parquet")

    def build(self, trial: dict | None = None) -> dict:
        return build_figures(self.ard, self.efficacy, self.subjects,
                                     trial or self.trial, self.trial_id)

    def write(self, outdir: Path, trial: dict | None = None) -> list[Path]:
        return write_figures(trial or self.trial, self.out / "ard.csv",
                                     self.out / "derived" / "efficacy.parquet",
                                     self.out / "validated" / "subjects.parquet", outdir,
                                     trial_id=self.trial_id)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Run:
    root = tmp_path_factory.mktemp("reference")
    shutil.copytree(REFERENCE, root / "data" / REFERENCE_TRIAL)
    trial = reference_trial_config()
    return Run(REFERENCE_TRIAL, trial, run_stages(root, REFERENCE_TRIAL, trial))


@pytest.fixture(scope="module")
def reference_files(reference, tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("figures") / "figures"
    reference.write(outdir)
    return outdir


@pytest.fixture(scope="module")
def several_arms(tmp_path_factory) -> Run:
    """Three arms (Placebo, Low Dose, High Dose), ADAS-Cog 0-70 (too many categories for
    the rating distribution), with a subgroup variable added (SEX)."""
    root = tmp_path_factory.mktemp("three_arm")
    trial = three_arm(root)
    trial["analyses"]["subgroups"] = {"variables": ["SEX"], "min_n": 3}
    return Run("cdiscpilot_like", trial, run_stages(root, "cdiscpilot_like", trial))


@pytest.fixture(scope="module")
def saga(tmp_path_factory) -> Run:
    """The shipped randomized trial: two arms, seven visits."""
    import yaml

    root = tmp_path_factory.mktemp("saga")
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    trial = config["trials"]["fasoracetam_saga"]
    for source in trial["data"].values():
        source["path"] = str(ROOT / source["path"])
    return Run("fasoracetam_saga", trial, run_stages(root, "fasoracetam_saga", trial))


def artists(fig, gid: str) -> list:
    found = fig.findobj(lambda a: a.get_gid() == gid)
    assert found, f"no artist {gid!r} in the figure"
    return found


def one(fig, gid: str):
    found = artists(fig, gid)
    assert len(found) == 1, (gid, found)
    return found[0]


def rows(ard: pd.DataFrame, **where) -> pd.DataFrame:
    for column, wanted in where.items():
        ard = ard[ard[column] == wanted]
    return ard


def value(ard: pd.DataFrame, **where) -> float:
    found = rows(ard, **where)
    assert len(found) == 1, where
    return float(found["value"].iloc[0])


def by_visit_series(ard, parameter, arm, statistic) -> pd.Series:
    found = rows(ard, analysis="by_visit", parameter=parameter, group=arm, statistic=statistic)
    return found.set_index("visitn")["value"].sort_index()


def texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text)]


# ---------------------------------------------------------------------------------------
# the workflow and the module agree; importing the module stays cheap
# ---------------------------------------------------------------------------------------


def test_workflow_lists_the_figures_the_module_writes():
    common = (ROOT / "workflow" / "rules" / "common.smk").read_text(encoding="utf-8")
    names = re.search(r"^FIGURE_NAMES = (\[.*?\])", common, re.M | re.S)
    formats = re.search(r"^FIGURE_FORMATS = (\[.*?\])", common, re.M | re.S)
    assert ast.literal_eval(names.group(1)) == list(FIGURE_NAMES)
    assert ast.literal_eval(formats.group(1)) == list(FORMATS)
    assert set(CAPTIONS) == set(FIGURE_NAMES)


def test_importing_the_module_does_not_import_matplotlib():
    code = ("import sys, trialreport.figures.stage; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_building_the_figures_leaves_pyplot_alone(reference):
    reference.build()
    assert "matplotlib.pyplot" not in sys.modules or not __import__(
        "matplotlib.pyplot").pyplot.get_fignums()


# ---------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------


def test_every_figure_is_written_as_valid_png_and_svg(reference, reference_files):
    assert sorted(p.name for p in reference_files.iterdir()) == sorted(FILES)
    texts_ = captions(reference.trial, reference.ard, REFERENCE_TRIAL)
    for name in FIGURE_NAMES:
        png = (reference_files / f"{name}.png").read_bytes()
        assert png.startswith(PNG_SIGNATURE), name
        assert b"Matplotlib" not in png  # no software version: the same bytes on upgrade
        caption, alt = texts_[name]
        assert b"tEXtTitle\x00" + caption.encode("latin-1") in png
        assert b"tEXtDescription\x00" + alt.encode("latin-1") in png
        svg = (reference_files / f"{name}.svg").read_bytes()
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg", name
        title = root.find("{http://www.w3.org/2000/svg}title")
        assert title is not None and title.text == caption
        assert b"<dc:date>" not in svg and b"Matplotlib v" not in svg
        ids = [e.get("id") for e in root.iter() if e.get("id")]
        assert len(ids) == len(set(ids)), f"{name}.svg: ids repeat"


def test_png_is_written_at_150_dpi(reference_files):
    import struct

    png = (reference_files / "means_by_visit.png").read_bytes()
    at = png.index(b"pHYs")
    x, y, unit = struct.unpack(">IIB", png[at + 4:at + 13])
    assert unit == 1 and round(x * 0.0254) == round(y * 0.0254) == 150


def test_files_are_byte_identical_across_runs(reference, reference_files, tmp_path):
    """A second run in another process (fresh matplotlib state) gives the same bytes."""
    code = ("import sys, yaml; from trialreport.figures.stage import write_figures; "
            "write_figures(yaml.safe_load(sys.argv[1]), *sys.argv[2:6], trial_id=sys.argv[6])")
    out = reference.out
    subprocess.run([sys.executable, "-c", code, yaml.safe_dump(reference.trial),
                    str(out / "ard.csv"), str(out / "derived" / "efficacy.parquet"),
                    str(out / "validated" / "subjects.parquet"), str(tmp_path),
                    REFERENCE_TRIAL], check=True, capture_output=True, text=True)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (reference_files / name).read_bytes(), name


# ---------------------------------------------------------------------------------------
# the values drawn are the ARD's
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("run_name", ["reference", "several_arms"])
def test_means_by_visit_are_the_ard_rows(run_name, request):
    run = request.getfixturevalue(run_name)
    fig = means_by_visit_figure(run.ard, run.trial, run.trial_id)
    params = run.trial["design"]["parameters"]
    arms = ard_arms(run.ard)
    assert len(fig.axes) == len(params)
    for code in params:
        for arm in arms:
            mean = by_visit_series(run.ard, code, arm, "mean")
            low = by_visit_series(run.ard, code, arm, "ci_low")
            high = by_visit_series(run.ard, code, arm, "ci_high")
            line = one(fig, artist_id("mean", code, arm))
            x, y = (np.asarray(v, float) for v in line.get_data())
            np.testing.assert_array_equal(y, mean.to_numpy())
            # the arms are shifted apart by a constant, so that their intervals do not overlap
            assert np.ptp(x - mean.index.to_numpy()) < 1e-9
            if len(arms) == 1:
                np.testing.assert_array_equal(x, mean.index.to_numpy())
            segments = one(fig, artist_id("ci", code, arm)).get_segments()
            finite = low.notna() & high.notna()
            assert len(segments) == finite.sum()
            np.testing.assert_allclose([s[0][1] for s in segments], low[finite], rtol=1e-12)
            np.testing.assert_allclose([s[1][1] for s in segments], high[finite], rtol=1e-12)


def test_subgroup_forest_is_the_ard_rows(reference):
    fig = subgroup_forest_figure(reference.ard, reference.trial, REFERENCE_TRIAL)
    a = reference.ard
    groups = rows(a, analysis="subgroup", statistic="change_mean")
    assert len(groups) == 12  # 2 parameters x (3 MGLURTIER + 3 MAXDOSE levels)
    shown = rows(a, analysis="paired", statistic="change_mean")
    for _, r in pd.concat([shown, groups]).iterrows():
        code, group, analysis = r["parameter"], r["group"], r["analysis"]

        def stat(name, code=code, group=group, analysis=analysis):
            return value(a, analysis=analysis, parameter=code, group=group, statistic=name)

        est = one(fig, artist_id("est", code, group))
        assert list(est.get_xdata()) == [stat("change_mean")]
        ci = one(fig, artist_id("ci", code, group))
        assert list(ci.get_xdata()) == [stat("change_ci_low"), stat("change_ci_high")]
        assert ci.get_ydata()[0] == ci.get_ydata()[1] == est.get_ydata()[0]
        label = one(fig, artist_id("label", code, group)).get_text()
        assert label.split("   ")[1].startswith(f"{stat('n_pairs'):g}")
        tested = stat("tested") == 1
        assert (DESCRIPTIVE_MARK not in label) == tested, (group, label)
        assert (est.get_markerfacecolor() == "white") == (not tested)
    # the levels flagged descriptive only are those with tested = 0 (fewer than min_n pairs)
    untested = rows(a, analysis="subgroup", statistic="tested", value=0.0)
    assert sorted(zip(untested["parameter"], untested["group"], strict=True)) == [
        ("CGII", "Fasoracetam; MGLURTIER = 2"), ("CGIS", "Fasoracetam; MAXDOSE = 100"),
        ("CGIS", "Fasoracetam; MGLURTIER = 2")]
    for code in ("CGII", "CGIS"):
        reference_line = one(fig, artist_id("reference", code))
        assert list(reference_line.get_xdata()) == [0, 0]


def test_subgroup_forest_of_several_arms(several_arms):
    a = several_arms.ard
    fig = subgroup_forest_figure(a, several_arms.trial, several_arms.trial_id)
    groups = rows(a, analysis="subgroup", statistic="change_mean", parameter="ACTOT")
    assert {g.split(";")[0] for g in groups["group"]} == {"Placebo", "Low Dose", "High Dose"}
    for _, r in groups.iterrows():
        est = one(fig, artist_id("est", "ACTOT", r["group"]))
        assert est.get_xdata()[0] == r["value"]


def counted_by_hand(run: Run, code: str, arm: str) -> pd.DataFrame:
    """Percent per visit and category, counted here from the derived data (efficacy set)."""
    eff = run.efficacy.merge(run.subjects[["USUBJID", "TRT01P", "EFFFL"]], on="USUBJID")
    eff = eff[(eff["EFFFL"] == "Y") & (eff["PARAMCD"] == code) & (eff["TRT01P"] == arm)
              & eff["AVAL"].notna()]
    table = pd.crosstab(eff["AVISITN"].astype(float), eff["AVAL"].astype(float))
    return table.div(table.sum(axis=1), axis=0) * 100


def test_rating_distribution_is_the_participant_level_counts(reference):
    fig = rating_distribution_figure(reference.efficacy, reference.subjects,
                                             reference.ard, reference.trial, REFERENCE_TRIAL)
    for code in ("CGII", "CGIS"):
        expected = counted_by_hand(reference, code, "Fasoracetam")
        totals = None
        for category in range(1, 8):
            for visitn in expected.index:
                bar = one(fig, artist_id("bars", code, "Fasoracetam", category,
                                                 float(visitn)))
                want = expected.loc[visitn, float(category)] if float(
                    category) in expected.columns else 0.0
                assert bar.get_height() == pytest.approx(want, abs=1e-12)
            heights = np.array([one(fig, artist_id(
                "bars", code, "Fasoracetam", category, float(v))).get_height()
                for v in expected.index])
            totals = heights if totals is None else totals + heights
        np.testing.assert_allclose(totals, 100.0)
        # n above each visit's bar: the subjects rated there, as many as ard.csv's by_visit n
        n = by_visit_series(reference.ard, code, "Fasoracetam", "n")
        shown = [int(one(fig, artist_id("n", code, "Fasoracetam", float(v))).get_text())
                 for v in n.index]
        assert shown == [int(v) for v in n.to_numpy()]


def test_rating_distribution_says_where_its_numbers_come_from():
    caption, _ = CAPTIONS["rating_distribution"]
    assert "derived/efficacy.parquet" in caption and "participant-level" in caption
    caption, _ = CAPTIONS["trajectories"]
    assert "derived/efficacy.parquet" in caption and "ard.csv" in caption


def test_trajectories_are_the_subjects_ratings_with_the_ard_mean(reference):
    fig = trajectories_figure(reference.efficacy, reference.subjects, reference.ard,
                                      reference.trial, REFERENCE_TRIAL)
    eff = reference.efficacy.merge(reference.subjects[["USUBJID", "EFFFL"]], on="USUBJID")
    eff = eff[(eff["EFFFL"] == "Y") & eff["AVAL"].notna()]
    for code in ("CGII", "CGIS"):
        mean = one(fig, artist_id("mean", code, "Fasoracetam"))
        expected = by_visit_series(reference.ard, code, "Fasoracetam", "mean")
        np.testing.assert_array_equal(mean.get_ydata(), expected.to_numpy())
        np.testing.assert_array_equal(mean.get_xdata(), expected.index.to_numpy())
        lines = one(fig, artist_id("subjects", code, "Fasoracetam")).get_segments()
        mine = eff[eff["PARAMCD"] == code].sort_values(["USUBJID", "AVISITN"])
        per_subject = [g[["AVISITN", "AVAL"]].to_numpy(float)
                       for _, g in mine.groupby("USUBJID", sort=True) if len(g) > 1]
        assert len(lines) == len(per_subject) == 30
        for got, want in zip(lines, per_subject, strict=True):
            np.testing.assert_array_equal(got, want)


def test_trajectories_of_many_subjects_show_a_fixed_random_sample(reference):
    """Above MAX_TRAJECTORIES subjects a panel shows a sample, the same on every run."""
    n = MAX_TRAJECTORIES + 50
    ids = [f"S{i:04d}" for i in range(n)]
    subjects = pd.DataFrame({"USUBJID": ids, "TRT01P": "A", "EFFFL": "Y"})
    rng = np.random.default_rng(1)
    efficacy = pd.DataFrame({
        "USUBJID": np.repeat(ids, 2), "PARAMCD": "CGIS", "AVISITN": np.tile([0, 5], n),
        "AVAL": rng.integers(1, 8, 2 * n).astype(float)})
    ard = pd.DataFrame([
        {"analysis": "by_visit", "parameter": "CGIS", "group": "A", "visitn": float(v),
         "visit": "", "statistic": s, "value": f(efficacy[efficacy["AVISITN"] == v]["AVAL"])}
        for v in (0, 5) for s, f in (("n", len), ("mean", np.mean))])
    first, second = (trajectories_figure(efficacy, subjects, ard, reference.trial)
                     for _ in range(2))
    lines = [one(f, artist_id("subjects", "CGIS", "A")).get_segments()
             for f in (first, second)]
    assert len(lines[0]) == MAX_TRAJECTORIES
    assert all(np.array_equal(a, b) for a, b in zip(*lines, strict=True))
    assert f"{MAX_TRAJECTORIES} of {n} subjects" in first.axes[0].get_title()


def test_participant_level_figures_refuse_counts_that_differ_from_the_ard(reference):
    ard = reference.ard.copy()
    at = ((ard["analysis"] == "by_visit") & (ard["parameter"] == "CGIS")
          & (ard["visitn"] == 5) & (ard["statistic"] == "n"))
    ard.loc[at, "value"] += 1
    with pytest.raises(ValueError, match=r"rated on CGIS at visit 5 .*\(by_visit n\) has 30"):
        trajectories_figure(reference.efficacy, reference.subjects, ard,
                                    reference.trial)
    with pytest.raises(ValueError, match="by_visit n"):
        rating_distribution_figure(reference.efficacy, reference.subjects, ard,
                                           reference.trial)


# ---------------------------------------------------------------------------------------
# nothing to show: the figure is still written, saying why
# ---------------------------------------------------------------------------------------


def test_no_subgroups_gives_a_figure_that_says_so(reference, tmp_path):
    trial = copy.deepcopy(reference.trial)
    del trial["analyses"]["subgroups"]
    fig = subgroup_forest_figure(reference.ard, trial)
    assert one(fig, "placeholder").get_text() == "No subgroups in this trial's config"
    paths = reference.write(tmp_path, trial)
    assert sorted(p.name for p in paths) == sorted(FILES)
    caption, alt = captions(trial, reference.ard)["subgroup_forest"]
    assert "no subgroup" in caption and "no subgroups" in alt


def test_several_arms_without_few_categories(several_arms, tmp_path):
    """ADAS-Cog has 71 categories: the rating distribution says there is nothing to show;
    means and trajectories have a line (and, for trajectories, a panel) per arm."""
    built = several_arms.build()
    message = one(built["rating_distribution"], "placeholder").get_text()
    assert message == f"No parameter rated on {MAX_CATEGORIES} categories or fewer"
    arms = ard_arms(several_arms.ard)
    assert arms == ["Placebo", "Low Dose", "High Dose"]
    assert len(built["trajectories"].axes) == 3
    for arm in arms:
        mean = one(built["trajectories"], artist_id("mean", "ACTOT", arm))
        expected = by_visit_series(several_arms.ard, "ACTOT", arm, "mean")
        np.testing.assert_array_equal(mean.get_ydata(), expected.to_numpy())
    colours = {one(built["means_by_visit"], artist_id("mean", "ACTOT", a))
               .get_color() for a in arms}
    assert colours <= set(OKABE_ITO.values()) and len(colours) == 3
    assert sorted(p.name for p in several_arms.write(tmp_path)) == sorted(FILES)


def test_captions_give_the_trials_numbers(reference):
    texts_ = captions(reference.trial, reference.ard, REFERENCE_TRIAL)
    assert set(texts_) == set(FIGURE_NAMES)
    assert all(caption and alt for caption, alt in texts_.values())
    assert "4.83 at Baseline (n = 30)" in texts_["means_by_visit"][1]
    assert "fewer than 8 pairs" in texts_["subgroup_forest"][0]
    assert "MGLURTIER = 2: -1.57 (-2.30 to -0.84), n = 7, descriptive only" in \
        texts_["subgroup_forest"][1]


# ---------------------------------------------------------------------------------------
# readable at the size shown: the page's width, text no smaller than the body's, arms apart
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("run_name", ["reference", "several_arms", "saga"])
def test_every_figure_fits_the_page_and_its_smallest_text_is_the_body_size(run_name,
                                                                          request) -> None:
    from trialreport.figures.style import FIGURE_WIDTH, MAX_HEIGHT, MIN_FONT_PT, smallest_text

    run = request.getfixturevalue(run_name)
    for name, fig in run.build().items():
        assert fig.get_figwidth() <= FIGURE_WIDTH + 1e-9, name
        assert fig.get_figheight() <= MAX_HEIGHT + 1e-9, name
        size, text = smallest_text(fig)
        assert size >= MIN_FONT_PT, (name, size, text)


def test_the_text_check_sees_small_text_and_a_figure_scaled_down() -> None:
    from trialreport.figures.style import MIN_FONT_PT, figure_style, new_figure, smallest_text

    with figure_style():
        fig = new_figure(6.5, 3)
        fig.add_subplot().set_title("a title")
        assert smallest_text(fig)[0] >= MIN_FONT_PT
        fig.text(0.5, 0.5, "small", fontsize=MIN_FONT_PT - 1)
        assert smallest_text(fig) == (MIN_FONT_PT - 1, "small")
        wide = new_figure(9.75, 3)  # shown at 6.5 in: 10 pt reads as 6.7 pt
        wide.add_subplot().set_title("a title")
        assert smallest_text(wide)[0] == pytest.approx(MIN_FONT_PT * 6.5 / 9.75)


@pytest.mark.parametrize(("run_name", "code", "groups"), [
    ("several_arms", "ACTOT", ("Placebo", "Low Dose", "High Dose")),
    ("saga", "ADHDRS", ("Placebo", "Fasoracetam")),
])
def test_the_arms_intervals_are_drawn_apart_at_every_visit(run_name, code, groups,
                                                           request) -> None:
    """Means by visit: at each visit the arms' intervals stand side by side, further apart
    (in points, as printed) than their caps are wide; SAGA has seven visits in a panel half
    the page wide."""
    from trialreport.figures.means import CAPSIZE

    run = request.getfixturevalue(run_name)
    fig = means_by_visit_figure(run.ard, run.trial, run.trial_id)
    fig.canvas.draw()
    points_per_pixel = 72 / fig.dpi
    visits = sorted(rows(run.ard, analysis="by_visit", parameter=code)["visitn"].unique())
    xs: dict[float, list[float]] = {}
    for arm in groups:
        ci = one(fig, artist_id("ci", code, arm))
        for (x0, _), _end in ci.get_segments():
            shown = ci.axes.transData.transform((x0, 0))[0] * points_per_pixel
            nearest = min(visits, key=lambda v, x0=x0: abs(v - x0))
            xs.setdefault(nearest, []).append(shown)
    assert len(xs) == len(visits) >= 2
    for visit, positions in xs.items():
        gaps = np.diff(sorted(positions))
        assert len(positions) == len(groups) and (gaps > 2 * CAPSIZE).all(), (visit, gaps)
