"""An MMRM entry of ``analyses.models`` (``kind: mmrm``), parsed and checked against the
trial's design, each refusal naming the key to change.

The model (``trialreport.analyse.mmrm`` fits it with ``trialreport.stats.mmrm``):

    response_ij = arm_i + visit_j + (arm x visit)_ij + BASE_i + (BASE x visit)_ij
                  + covariates_i + factors_i + e_ij,

e_i ~ N(0, Sigma) over the visits of subject i, Sigma of the named ``structure`` (one per
arm with ``per_arm_covariance``), fitted by REML (or ML), with Kenward-Roger (or
Satterthwaite) degrees of freedom. ``BASE`` enters as baseline and baseline x visit when
``covariates`` lists it; other covariates (numeric) and factors (categorical) enter as
main effects. Standard library only: Snakemake's own process parses the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STRUCTURES = ("US", "TOEP", "TOEPH", "AR1", "ARH1", "CS")
"""As ``trialreport.stats.mmrm_covariance.STRUCTURES`` (a test checks they agree)."""
RESPONSES = ("CHG", "AVAL", "PCHG")
METHODS = ("REML", "ML")
DF_METHODS = {"kenward-roger": "KR", "satterthwaite": "Satterthwaite"}
"""The config's name of each df method and the engine's (``fit_mmrm(ddfm=...)``)."""
DF_WORDS = {"kenward-roger": "Kenward-Roger", "satterthwaite": "Satterthwaite"}
STRUCTURE_WORDS = {"US": "unstructured", "TOEP": "Toeplitz", "TOEPH": "heterogeneous Toeplitz",
                   "AR1": "first-order autoregressive", "ARH1":
                   "heterogeneous first-order autoregressive", "CS": "compound symmetry"}
OLS_ONLY = {"visit": None, "records": "observed", "dose": None}
"""Keys of an ols model that an mmrm model does not take (but for the schema's default,
which Snakemake fills in)."""
MMRM_ONLY = {"visits": None, "structure": "US", "fallback": [], "per_arm_covariance": False,
             "method": "REML", "df": "kenward-roger", "population": "EFFFL"}
"""Keys of an mmrm model that an ols model does not take (but for the schema's default)."""


def check_ols_keys(m: Mapping[str, Any], index: int) -> None:
    """An ols model given a key only an mmrm model uses is refused, naming the key."""
    for key, default in MMRM_ONLY.items():
        if key in m and m[key] != default:
            raise _error(f"analyses.models[{index}] ({m.get('id', m['parameter'])}).{key}: "
                         f"{key!r} is a key of an MMRM; add kind: mmrm, or remove it")


def _error(message: str) -> Exception:
    from trialreport.common.plan import PlanError

    return PlanError(message)


def mmrm_spec(m: Mapping[str, Any], design: Any, index: int) -> dict[str, Any]:
    """The fields of the ``ModelSpec`` (``trialreport.common.config``, which builds it: this
    module does not import it back) of an ``analyses.models`` entry with ``kind: mmrm``; a
    parameter,
    visit, response, structure, fallback, method or df method the trial cannot have raises
    ``PlanError`` naming ``analyses.models[<index>] (<id>).<key>``."""
    model_id = m.get("id", f"{m['parameter']}_mmrm")
    where = f"analyses.models[{index}] ({model_id})"
    for key, default in OLS_ONLY.items():
        if key in m and m[key] != default:
            raise _error(f"{where}.{key}: an mmrm model takes no {key!r}; it uses the "
                         "observed records at every visit of 'visits'")
    param = design.parameters.get(m["parameter"])
    if param is None:
        raise _error(f"{where}.parameter: {m['parameter']!r} is not a parameter of "
                     f"design.parameters ({', '.join(design.parameters)})")
    response = m.get("response", "CHG")
    if response not in RESPONSES:
        raise _error(f"{where}.response: {response!r}; use one of {', '.join(RESPONSES)}")
    if response in ("CHG", "PCHG") and not param.has_baseline:
        raise _error(f"{where}.response: {response} needs a baseline, and {param.code} has "
                     f"none (design.parameters.{param.code}.baseline_visit); use AVAL")
    numbers = [v.number for v in design.visits]
    after = [n for n in numbers if param.baseline_visit is None or n > param.baseline_visit]
    visits = m.get("visits")
    if visits is None:
        visits = after
    for j, v in enumerate(visits):
        if v not in numbers:
            raise _error(f"{where}.visits[{j}]: {v!r} is not a visit number of design.visits "
                         f"({', '.join(map(str, numbers))})")
        if v not in after:
            raise _error(f"{where}.visits[{j}]: visit {v} is not after {param.code}'s "
                         f"baseline visit ({param.baseline_visit}); the MMRM models the "
                         "post-baseline visits")
    if len(set(visits)) != len(visits) or not visits:
        raise _error(f"{where}.visits: give each post-baseline visit once (got "
                     f"{list(visits)})")
    structure = str(m.get("structure", "US")).upper()
    if structure not in STRUCTURES:
        raise _error(f"{where}.structure: {m.get('structure')!r} is not a covariance "
                     f"structure; use one of {', '.join(STRUCTURES)}")
    fallback = tuple(str(s).upper() for s in m.get("fallback", []))
    for j, s in enumerate(fallback):
        if s not in STRUCTURES:
            raise _error(f"{where}.fallback[{j}]: {m['fallback'][j]!r} is not a covariance "
                         f"structure; use one of {', '.join(STRUCTURES)}")
    if fallback and fallback[0] != structure:
        fallback = (structure, *(s for s in fallback if s != structure))
    method = str(m.get("method", "REML")).upper()
    if method not in METHODS:
        raise _error(f"{where}.method: {m.get('method')!r}; use REML or ML")
    df = m.get("df", "kenward-roger")
    if df not in DF_METHODS:
        raise _error(f"{where}.df: {df!r}; use {' or '.join(DF_METHODS)}")
    covariates = tuple(m.get("covariates", []))
    factors = tuple(m.get("factors", []))
    both = sorted(set(covariates) & set(factors))
    reserved = {"ARM", "AVISIT", "AVISITN", "USUBJID", "TRT01P", "AVAL", "CHG", "PCHG"}
    for key, names in (("covariates", covariates), ("factors", factors)):
        for j, name in enumerate(names):
            if name in reserved or name in both:
                raise _error(f"{where}.{key}[{j}]: {name!r} is already in the model (arm, "
                             "visit, response) or listed twice; name a subject column "
                             "(or BASE among the covariates)")
    return dict(id=model_id, parameter=param.code, visit=int(max(visits)),
                response=response, covariates=covariates, factors=factors,
                kind="mmrm", visits=tuple(int(v) for v in visits), structure=structure,
                fallback=fallback, per_arm_covariance=bool(m.get("per_arm_covariance", False)),
                method=method, df=df, population=m.get("population", "EFFFL"))


def mmrm_terms(spec: Any) -> list[str]:
    """The fixed effects of an MMRM spec, in the engine's term syntax."""
    terms = ["ARM", "AVISIT", "ARM:AVISIT"]
    if "BASE" in spec.covariates:
        terms += ["BASE", "BASE:AVISIT"]
    terms += [c for c in spec.covariates if c != "BASE"] + list(spec.factors)
    return terms


def mmrm_formula(spec: Any) -> str:
    """``CHG ~ ARM + AVISIT + ARM:AVISIT + BASE + BASE:AVISIT + ...``."""
    return f"{spec.response} ~ " + " + ".join(mmrm_terms(spec))


def mmrm_words(spec: Any, structure: str | None = None) -> str:
    """The model in words, for the report's notes: estimation, covariance, df."""
    s = structure or spec.structure
    cov = f"{STRUCTURE_WORDS[s]} ({s}) covariance over visits" + (
        ", one per arm" if spec.per_arm_covariance else "")
    return f"{spec.method}, {cov}, {DF_WORDS[spec.df]} degrees of freedom"
