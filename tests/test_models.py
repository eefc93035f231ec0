"""trialreport.stats.models.fit_arm_model against values computed another way: statsmodels'
formula interface on the same data, LS means built by hand from that fit's coefficients,
the closed form of one-covariate ANCOVA, scipy's two-sample t-test and one-way ANOVA."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats as sps

from trialreport.stats.models import fit_arm_model

ARMS = ["Placebo", "Low", "High"]
ARM_TERM = "C(ARM, Treatment('Placebo'))"
DOSES = {"Placebo": 0.0, "Low": 10.0, "High": 40.0}  # unequally spaced on purpose

# A hand-made three-arm trial: 30 subjects, sites unbalanced across arms
# (Placebo 3/2/5, Low 4/3/2, High 2/5/4 at S1/S2/S3).
ROWS = [
    ("Placebo", "S1", 24, -2.0), ("Placebo", "S1", 30, -1.5), ("Placebo", "S1", 27, 0.5),
    ("Placebo", "S2", 22, -3.0), ("Placebo", "S2", 35, 1.0),
    ("Placebo", "S3", 29, -0.5), ("Placebo", "S3", 31, -2.5), ("Placebo", "S3", 26, 0.0),
    ("Placebo", "S3", 33, -1.0), ("Placebo", "S3", 28, 1.5),
    ("Low", "S1", 25, -4.0), ("Low", "S1", 32, -2.0), ("Low", "S1", 29, -5.5),
    ("Low", "S1", 23, -1.0),
    ("Low", "S2", 34, -3.5), ("Low", "S2", 27, -6.0), ("Low", "S2", 30, -2.5),
    ("Low", "S3", 21, -4.5), ("Low", "S3", 36, -3.0),
    ("High", "S1", 31, -6.5), ("High", "S1", 26, -4.0),
    ("High", "S2", 28, -7.0), ("High", "S2", 33, -5.0), ("High", "S2", 24, -8.5),
    ("High", "S2", 29, -3.5), ("High", "S2", 35, -6.0),
    ("High", "S3", 22, -5.5), ("High", "S3", 30, -9.0), ("High", "S3", 27, -4.5),
    ("High", "S3", 32, -7.5),
]


def trial() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=["ARM", "SITE", "BASE", "CHG"])
    df["BASE"] = df["BASE"].astype(float)
    df["DOSE"] = df["ARM"].map(DOSES)
    return df


def close(actual: float, expected: float) -> bool:
    return actual == pytest.approx(expected, rel=1e-9, abs=1e-12)


def full_model(**kwargs):
    return fit_arm_model(trial(), "CHG", ARMS, "Placebo", covariates=["BASE"],
                         factors=["SITE"], **kwargs)


# -- the arm model against statsmodels' formula interface --------------------------------

@pytest.mark.parametrize("confidence", [0.95, 0.90])
def test_contrasts_equal_the_statsmodels_formula_fit(confidence):
    df = trial()
    r = full_model(confidence=confidence)
    ref = smf.ols(f"CHG ~ {ARM_TERM} + BASE + C(SITE)", data=df).fit()
    ci = ref.conf_int(alpha=1 - confidence)
    assert (r["n"], r["n_dropped"], r["df_resid"]) == (30, 0, ref.df_resid) == (30, 0, 24)
    assert close(r["sigma"], math.sqrt(ref.scale))
    assert list(r["arms"]) == ARMS
    assert "diff" not in r["arms"]["Placebo"]
    for arm in ("Low", "High"):
        name = f"{ARM_TERM}[T.{arm}]"
        e = r["arms"][arm]
        assert close(e["diff"], ref.params[name])
        assert close(e["diff_se"], ref.bse[name])
        assert close(e["t"], ref.tvalues[name])
        assert close(e["p_value"], ref.pvalues[name])
        assert close(e["diff_ci_low"], ci.loc[name, 0])
        assert close(e["diff_ci_high"], ci.loc[name, 1])
    assert close(r["covariates"]["BASE"]["slope"], ref.params["BASE"])
    assert close(r["covariates"]["BASE"]["se"], ref.bse["BASE"])
    # overall F of ARM: the adjusted (type II = type III here, no interaction) F of anova_lm
    table = sm.stats.anova_lm(ref, typ=2)
    assert close(r["f_arm"], table.loc[ARM_TERM, "F"])
    assert close(r["p_value_arm"], table.loc[ARM_TERM, "PR(>F)"])
    assert (r["df_num"], r["df_den"]) == (2, 24)
    assert r["factor_levels"] == {"SITE": {"S1": 9, "S2": 10, "S3": 11}}


def test_arm_order_is_kept_and_contrasts_do_not_depend_on_it():
    r = fit_arm_model(trial(), "CHG", ["High", "Placebo", "Low"], "Placebo",
                      covariates=["BASE"], factors=["SITE"])
    assert list(r["arms"]) == ["High", "Placebo", "Low"]
    base = full_model()
    for arm in ARMS:
        for key, value in base["arms"][arm].items():
            assert close(r["arms"][arm][key], value)


def test_lsmeans_equal_the_prediction_vector_built_by_hand():
    df = trial()
    r = full_model()
    ref = smf.ols(f"CHG ~ {ARM_TERM} + BASE + C(SITE)", data=df).fit()
    params, cov = ref.params, ref.cov_params()
    tcrit = sps.t.ppf(0.975, ref.df_resid)
    for arm in ARMS:
        # intercept; the arm's indicator; BASE at its mean over all 30 rows; each of the
        # three sites weighted 1/3 (reference site S1 is the intercept, so S2 and S3 get 1/3)
        x = pd.Series(0.0, index=params.index)
        x["Intercept"] = 1.0
        if arm != "Placebo":
            x[f"{ARM_TERM}[T.{arm}]"] = 1.0
        x["BASE"] = df["BASE"].mean()
        x["C(SITE)[T.S2]"] = x["C(SITE)[T.S3]"] = 1.0 / 3.0
        est = float(x @ params)
        se = math.sqrt(float(x @ cov @ x))
        e = r["arms"][arm]
        assert close(e["lsmean"], est)
        assert close(e["se"], se)
        assert close(e["ci_low"], est - tcrit * se)
        assert close(e["ci_high"], est + tcrit * se)
        # raw statistics of the arm
        raw = df.loc[df["ARM"] == arm, "CHG"]
        assert (e["n"], close(e["mean"], raw.mean()), close(e["sd"], raw.std(ddof=1))) == (
            len(raw), True, True)
        # equal weights, not the observed site proportions (which would give another value)
        share = df["SITE"].value_counts(normalize=True)
        x["C(SITE)[T.S2]"], x["C(SITE)[T.S3]"] = share["S2"], share["S3"]
        assert abs(float(x @ params) - est) > 1e-3
    # the difference of the LS means is the contrast
    for arm in ("Low", "High"):
        assert close(r["arms"][arm]["lsmean"] - r["arms"]["Placebo"]["lsmean"],
                     r["arms"][arm]["diff"])


def test_lsmeans_without_factor_are_raw_means_adjusted_by_the_pooled_slope():
    # Balanced: 6 subjects per arm. One-covariate ANCOVA has the closed form
    #   LS mean(a) = mean CHG(a) + b * (mean BASE - mean BASE(a)),
    #   b = sum_a sum_i (BASE - mean BASE(a)) (CHG - mean CHG(a))
    #       / sum_a sum_i (BASE - mean BASE(a))^2     (the pooled within-arm slope)
    rows = {
        "Placebo": ([20, 25, 31, 28, 23, 34], [-1.0, 0.5, -2.0, 1.0, -0.5, -1.5]),
        "Low": ([26, 30, 22, 35, 29, 24], [-3.0, -4.5, -1.5, -2.0, -5.0, -2.5]),
        "High": ([33, 27, 21, 30, 36, 25], [-6.0, -5.5, -3.0, -7.5, -4.0, -6.5]),
    }
    df = pd.DataFrame([(a, b, c) for a, (bs, cs) in rows.items()
                       for b, c in zip(bs, cs, strict=True)], columns=["ARM", "BASE", "CHG"])
    r = fit_arm_model(df, "CHG", ARMS, "Placebo", covariates=["BASE"])
    sxy = sxx = 0.0
    for bs, cs in rows.values():
        b, c = np.array(bs, float), np.array(cs, float)
        sxy += float(((b - b.mean()) * (c - c.mean())).sum())
        sxx += float(((b - b.mean()) ** 2).sum())
    slope = sxy / sxx
    grand = df["BASE"].mean()
    assert close(r["covariates"]["BASE"]["slope"], slope)
    assert close(r["covariates"]["BASE"]["mean"], grand)
    for arm, (bs, cs) in rows.items():
        expected = np.mean(cs) + slope * (grand - np.mean(bs))
        assert close(r["arms"][arm]["lsmean"], expected)
        assert abs(r["arms"][arm]["lsmean"] - np.mean(cs)) > 1e-3  # adjusted, not raw


# -- the dose-response trend --------------------------------------------------------------

def test_dose_response_slope_equals_the_formula_fit_with_numeric_dose():
    df = trial()
    r = full_model(dose="DOSE")
    ref = smf.ols("CHG ~ DOSE + BASE + C(SITE)", data=df).fit()
    ci = ref.conf_int(alpha=0.05)
    d = r["dose_response"]
    assert close(d["slope"], ref.params["DOSE"])
    assert close(d["se"], ref.bse["DOSE"])
    assert close(d["t"], ref.tvalues["DOSE"])
    assert close(d["p_value"], ref.pvalues["DOSE"])
    assert close(d["ci_low"], ci.loc["DOSE", 0])
    assert close(d["ci_high"], ci.loc["DOSE", 1])
    assert d["df_resid"] == ref.df_resid == 25
    # the arm model is unchanged by asking for the trend
    assert close(r["arms"]["High"]["diff"], full_model()["arms"]["High"]["diff"])
    assert "dose_response" not in full_model()


# -- no covariates: the classical tests ---------------------------------------------------

def test_two_arms_without_covariates_is_the_pooled_two_sample_t_test():
    df = trial()
    df = df[df["ARM"].isin(["Placebo", "High"])]
    r = fit_arm_model(df, "CHG", ["Placebo", "High"], "Placebo")
    high = df.loc[df["ARM"] == "High", "CHG"]
    placebo = df.loc[df["ARM"] == "Placebo", "CHG"]
    ref = sps.ttest_ind(high, placebo, equal_var=True)
    ci = ref.confidence_interval(0.95)
    e = r["arms"]["High"]
    assert close(e["t"], ref.statistic)
    assert close(e["p_value"], ref.pvalue)
    assert close(e["diff"], high.mean() - placebo.mean())
    assert close(e["diff_ci_low"], ci.low)
    assert close(e["diff_ci_high"], ci.high)
    assert r["df_resid"] == ref.df == 19
    assert close(r["f_arm"], ref.statistic**2)
    assert close(r["p_value_arm"], ref.pvalue)
    for arm in ("Placebo", "High"):  # no covariate, no factor: LS mean = raw mean
        assert close(r["arms"][arm]["lsmean"], r["arms"][arm]["mean"])


def test_three_arms_without_covariates_f_test_is_one_way_anova():
    df = trial()
    r = fit_arm_model(df, "CHG", ARMS, "Placebo")
    ref = sps.f_oneway(*(df.loc[df["ARM"] == a, "CHG"] for a in ARMS))
    assert close(r["f_arm"], ref.statistic)
    assert close(r["p_value_arm"], ref.pvalue)
    assert (r["df_num"], r["df_den"]) == (2, 27)
    # the pooled SD of one-way ANOVA
    groups = [df.loc[df["ARM"] == a, "CHG"] for a in ARMS]
    pooled = sum(((g - g.mean()) ** 2).sum() for g in groups) / (len(df) - 3)
    assert close(r["sigma"], math.sqrt(pooled))


def test_aval_response_without_covariates():
    # A rating of change at one visit (CGI-I-like, 1 = very much improved ... 7), no baseline
    df = pd.DataFrame({
        "ARM": ["Placebo"] * 7 + ["Low"] * 6 + ["High"] * 8,
        "AVAL": [4, 3, 4, 5, 3, 4, 4, 3, 2, 4, 3, 3, 2, 2, 1, 3, 2, 2, 3, 1, 2],
    })
    r = fit_arm_model(df, "AVAL", ARMS, "Placebo")
    ref = smf.ols(f"AVAL ~ {ARM_TERM}", data=df).fit()
    assert r["formula"] == "AVAL ~ ARM"
    assert r["covariates"] == {} and r["factor_levels"] == {}
    for arm in ("Low", "High"):
        name = f"{ARM_TERM}[T.{arm}]"
        assert close(r["arms"][arm]["diff"], ref.params[name])
        assert close(r["arms"][arm]["p_value"], ref.pvalues[name])
    for arm in ARMS:
        assert close(r["arms"][arm]["lsmean"], df.loc[df["ARM"] == arm, "AVAL"].mean())


def test_leaving_out_the_factor_changes_the_result():
    # A caller that forgets the strata gets other numbers, and those of the other model
    df = trial()
    with_site = full_model()
    without = fit_arm_model(df, "CHG", ARMS, "Placebo", covariates=["BASE"])
    ref = smf.ols(f"CHG ~ {ARM_TERM} + BASE", data=df).fit()
    for arm in ("Low", "High"):
        assert abs(with_site["arms"][arm]["diff"] - without["arms"][arm]["diff"]) > 1e-3
        assert abs(with_site["arms"][arm]["t"] - without["arms"][arm]["t"]) > 1e-3
        assert close(without["arms"][arm]["diff"], ref.params[f"{ARM_TERM}[T.{arm}]"])
    assert without["df_resid"] == with_site["df_resid"] + 2
    assert without["formula"] == "CHG ~ ARM + BASE"
    assert with_site["formula"] == "CHG ~ ARM + BASE + SITE"


# -- missing values -------------------------------------------------------------------------

def test_rows_with_a_missing_needed_value_are_dropped_and_counted():
    df = trial().astype({"ARM": object, "SITE": object})
    df.loc[0, "CHG"] = np.nan
    df.loc[5, "BASE"] = np.nan
    df.loc[12, "SITE"] = None
    df.loc[20, "ARM"] = None
    df.loc[25, "DOSE"] = np.nan
    df["UNUSED"] = np.nan  # a column not in the model does not drop anything
    r = fit_arm_model(df, "CHG", ARMS, "Placebo", covariates=["BASE"], factors=["SITE"],
                      dose="DOSE")
    assert (r["n"], r["n_dropped"]) == (25, 5)
    complete = trial().drop(index=[0, 5, 12, 20, 25])
    ref = smf.ols(f"CHG ~ {ARM_TERM} + BASE + C(SITE)", data=complete).fit()
    for arm in ("Low", "High"):
        assert close(r["arms"][arm]["diff"], ref.params[f"{ARM_TERM}[T.{arm}]"])
    assert r["arms"]["Placebo"]["n"] == 8
    assert close(r["covariates"]["BASE"]["mean"], complete["BASE"].mean())
    # without the dose the row with a missing dose is analysed
    assert fit_arm_model(df, "CHG", ARMS, "Placebo", covariates=["BASE"],
                         factors=["SITE"])["n_dropped"] == 4


# -- refusals -------------------------------------------------------------------------------

def test_an_arm_without_rows_is_an_error_naming_it():
    with pytest.raises(ValueError, match="'Mid'"):
        fit_arm_model(trial(), "CHG", [*ARMS, "Mid"], "Placebo")
    df = trial()
    df.loc[df["ARM"] == "Low", "CHG"] = np.nan
    with pytest.raises(ValueError, match=r"without analysed rows.*'Low' \(9 row"):
        fit_arm_model(df, "CHG", ARMS, "Placebo")


@pytest.mark.parametrize(("arms", "reference", "message"), [
    (["Placebo", "Low"], "Placebo", r"\['High'\].*not among the arms"),
    (["Placebo"], "Placebo", "at least 2 arms"),
    (ARMS, "Mid", "reference arm 'Mid'"),
    (["Placebo", "Low", "Low", "High"], "Placebo", "twice"),
    ("Placebo", "Placebo", "not the string"),
])
def test_bad_arms_are_refused(arms, reference, message):
    with pytest.raises(ValueError, match=message):
        fit_arm_model(trial(), "CHG", arms, reference)


def test_bad_columns_are_refused():
    with pytest.raises(ValueError, match=r"\['AGE'\] not in the data"):
        fit_arm_model(trial(), "CHG", ARMS, "Placebo", covariates=["AGE"])
    with pytest.raises(ValueError, match="'SITE' must be numeric"):
        fit_arm_model(trial(), "CHG", ARMS, "Placebo", covariates=["SITE"])
    with pytest.raises(ValueError, match="used twice"):
        fit_arm_model(trial(), "CHG", ARMS, "Placebo", covariates=["BASE"], dose="BASE")
    with pytest.raises(ValueError, match="confidence"):
        fit_arm_model(trial(), "CHG", ARMS, "Placebo", confidence=95)


def test_factor_level_confounded_with_an_arm_is_refused():
    df = trial()
    df.loc[df["ARM"] == "High", "SITE"] = "S4"  # every High subject, and only them, at S4
    # the formula interface warns, then returns one of infinitely many (pseudo-inverse) fits
    with pytest.warns(Warning, match="rank-deficient"):
        assert smf.ols(f"CHG ~ {ARM_TERM} + BASE + C(SITE)", data=df).fit().df_resid > 0
    with pytest.raises(ValueError, match=r"rank deficient.*SITE level 'S4'.*aliased with "
                                         r"ARM 'High'"):
        fit_arm_model(df, "CHG", ARMS, "Placebo", covariates=["BASE"], factors=["SITE"])


def test_constant_or_collinear_covariate_is_refused():
    df = trial().assign(BASE=30.0)
    with pytest.raises(ValueError, match="covariate BASE is aliased with the intercept"):
        fit_arm_model(df, "CHG", ARMS, "Placebo", covariates=["BASE"])
    df = trial().assign(BASE2=lambda d: 2.54 * d["BASE"] - 1.0)  # the same, other units
    with pytest.raises(ValueError, match="covariate BASE2 is aliased with the intercept "
                                         r"\+ covariate BASE"):
        fit_arm_model(df, "CHG", ARMS, "Placebo", covariates=["BASE", "BASE2"])
    df = trial().assign(BASE=1e6 + trial()["BASE"])  # large but not constant: fitted
    r = fit_arm_model(df, "CHG", ARMS, "Placebo", covariates=["BASE"], factors=["SITE"])
    assert close(r["arms"]["High"]["diff"], full_model()["arms"]["High"]["diff"])


def test_one_subject_level_is_estimable_unless_it_is_also_alone_in_its_arm():
    df = pd.concat([trial(), pd.DataFrame([("Low", "S9", 28.0, -2.0, 10.0)],
                                          columns=trial().columns)], ignore_index=True)
    # one subject at S9: full rank; the site effect is that subject's own value
    r = fit_arm_model(df, "CHG", ARMS, "Placebo", covariates=["BASE"], factors=["SITE"])
    ref = smf.ols(f"CHG ~ {ARM_TERM} + BASE + C(SITE)", data=df).fit()
    assert close(r["arms"]["Low"]["diff"], ref.params[f"{ARM_TERM}[T.Low]"])
    assert r["factor_levels"]["SITE"]["S9"] == 1
    # one subject alone in arm "Mid" and at site S9: the two columns are the same
    df.loc[len(df) - 1, "ARM"] = "Mid"
    with pytest.raises(ValueError, match=r"SITE level 'S9'.*aliased with ARM 'Mid'"):
        fit_arm_model(df, "CHG", [*ARMS, "Mid"], "Placebo", covariates=["BASE"],
                      factors=["SITE"])


def test_constant_dose_and_no_residual_df_are_refused():
    with pytest.raises(ValueError, match="dose-response model.*the dose DOSE is aliased"):
        fit_arm_model(trial().assign(DOSE=5.0), "CHG", ARMS, "Placebo", dose="DOSE")
    tiny = pd.DataFrame({"ARM": ["Placebo", "Low", "High"], "CHG": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="no residual degrees of freedom"):
        fit_arm_model(tiny, "CHG", ARMS, "Placebo")


def test_importing_the_module_does_not_import_statsmodels():
    code = "import sys, trialreport.stats.models; print('statsmodels' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
