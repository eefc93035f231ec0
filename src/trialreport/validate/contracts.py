"""Data contracts: the YAML specifications in ``schemas/`` turned into pandera schemas.

A contract (``schemas/<dataset>.yaml``) lists, one line per column, the type, whether the
column is required and may be empty, its allowed values or range, and the key that makes a
row unique; it names the dataset-level rules that apply (defined in ``RULES`` below and
described in ``schemas/README.md``). Values that differ between trials (visits, parameter
codes, dose levels, periods, study days) are written ``{domain: NAME}`` and come from the
trial's config through a ``Domain``.

Validation is lazy: every failure in every dataset is collected in one pass into a table with
the dataset, file, row (as the user sees it in their file), column, rule, value and a message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from trialreport.common.frames import member_of
from trialreport.ingest.source import ROW_COLUMN
from trialreport.validate.rules import show_value

if TYPE_CHECKING:  # pandera is imported where a frame is validated: ingest needs the
    import pandera.pandas as pa  # contracts' columns, not pandera's 1-2 s of imports
from trialreport.validate.domain import Domain
from trialreport.validate.rules import RULES, Rule

FAILURE_COLUMNS = ["dataset", "file", "row", "column", "rule", "value", "message", "severity"]
TYPES = {"string": "string", "integer": "Int64", "number": "Float64"}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    required: bool = True
    nullable: bool = False
    allowed: Any = None
    range: Any = None
    description: str = ""
    derived_by: str = ""
    """The config key that derives the column where the file lacks it (for messages)."""


@dataclass(frozen=True)
class Contract:
    dataset: str
    title: str
    description: str
    key: tuple[str, ...]
    columns: dict[str, ColumnSpec]
    rules: tuple[str, ...]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.required]

    def key_in(self, columns: Any) -> list[str]:
        """The key's columns, less the optional ones the data do not have (e.g. DTYPE)."""
        present = set(columns)
        return [c for c in self.key if c in present
                or c not in self.columns or self.columns[c].required]


def load_contract(path: str | Path) -> Contract:
    spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    columns = {}
    for name, col in spec["columns"].items():
        if col["type"] not in TYPES:
            raise ValueError(f"{path}: column {name}: unknown type {col['type']!r}")
        columns[name] = ColumnSpec(
            name=name,
            type=col["type"],
            required=col.get("required", True),
            nullable=col.get("nullable", False),
            allowed=col.get("allowed"),
            range=col.get("range"),
            description=col.get("description", ""),
            derived_by=col.get("derived_by", ""),
        )
    unknown = [r for r in spec.get("rules", []) if r not in RULES]
    if unknown:
        raise ValueError(f"{path}: unknown rule(s) {unknown}; known: {sorted(RULES)}")
    return Contract(
        dataset=spec["dataset"],
        title=spec.get("title", spec["dataset"]),
        description=spec.get("description", ""),
        key=tuple(spec.get("key", [])),
        columns=columns,
        rules=tuple(spec.get("rules", [])),
    )


def load_contracts(schema_dir: str | Path, datasets: list[str]) -> dict[str, Contract]:
    return {name: load_contract(Path(schema_dir) / f"{name}.yaml") for name in datasets}


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------


def _coerce(frame: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, list[dict]]:
    """Type each contracted column; values that are not of the type become failures."""
    out = frame.copy()
    failures = []
    for name, spec in contract.columns.items():
        if name not in out.columns:
            continue
        original = out[name]
        if spec.type == "string":
            out[name] = original.astype("string").str.strip().replace({"": pd.NA})
            continue
        as_text = original.astype("string").str.strip()
        numeric = pd.to_numeric(as_text, errors="coerce")
        bad = as_text.notna() & (as_text != "") & numeric.isna()
        reason = "is not a number"
        as_float = numeric.astype("Float64")
        infinite = (as_float.abs() == float("inf")).fillna(False).astype(bool)
        for idx in out.index[infinite]:
            failures.append(_failure_row(idx, name, "type", original[idx],
                                         "is not a finite number"))
        numeric = numeric.where(~infinite)
        if spec.type == "integer":
            numeric, int_failures = _as_int64(as_text, as_float, ~infinite)
            failures.extend(_failure_row(idx, name, "type", original[idx], message)
                            for idx, message in int_failures)
        for idx in out.index[bad]:
            failures.append(_failure_row(idx, name, "type", original[idx], reason))
        out[name] = numeric.astype(TYPES[spec.type])
    return out, failures


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _as_int64(text: pd.Series, as_float: pd.Series,
              finite: pd.Series) -> tuple[pd.Series, list[tuple[Any, str]]]:
    """Whole numbers as Int64, exactly; fractions and numbers too large are failures.

    Floats lose precision beyond 2**53 (and pandas turns a float beyond 2**63 into
    -2**63), so such values are read exactly from their text (e.g. "9223372036854775807",
    "9223372036854775808", "2e19").
    """
    failures = []
    large = ((as_float.abs() >= 2.0**53).fillna(False) & finite).astype(bool)
    exact: dict[Any, int] = {}
    for idx in text.index[large]:
        try:
            value = Decimal(str(text[idx]))
        except InvalidOperation:
            failures.append((idx, "is not a number"))
            continue
        if value != value.to_integral_value():
            failures.append((idx, "is not a whole number"))
        elif not _INT64_MIN <= int(value) <= _INT64_MAX:
            failures.append((idx, f"is a whole number outside the range a whole-number "
                                  f"column can hold ({_INT64_MIN} to {_INT64_MAX})"))
        else:
            exact[idx] = int(value)
    small = as_float.where(~large & finite)
    fractional = (small.notna() & (small.round(0) != small)).fillna(False).astype(bool)
    failures.extend((idx, "is not a whole number") for idx in text.index[fractional])
    typed = small.where(~fractional).astype("Int64")
    if exact:
        typed[list(exact)] = list(exact.values())
    return typed, failures


def _failure_row(index: Any, column: str, rule: str, value: Any, message: str) -> dict:
    return {"index": index, "column": column, "rule": rule, "value": value, "message": message}


def _resolve(values: Any, domain: Domain) -> Any:
    if isinstance(values, Mapping) and "domain" in values:
        return domain.lookup(values["domain"])
    return values


def build_schema(contract: Contract, domain: Domain,
                 columns_present: Any = None) -> pa.DataFrameSchema:
    """The pandera schema of a contract, with the trial's domains filled in (the key less
    the optional key columns not in ``columns_present``, when given)."""
    import pandera.pandas as pa

    columns = {}
    for name, spec in contract.columns.items():
        checks = []
        allowed = _resolve(spec.allowed, domain)
        if _is_subject_domain(spec.allowed):
            if allowed is not None:  # None: subjects unreadable; reported there
                # the subjects' identifiers as a set in a vectorised check: pandera's isin
                # turns every allowed value into an Arrow scalar on every call and copies
                # the list with the schema (seconds for 10^5 subjects)
                subjects = frozenset(allowed)
                checks.append(pa.Check(lambda values, ids=subjects: member_of(values, ids),
                                       error="subject_in_subjects"))
        elif allowed is not None:
            if spec.type != "string":
                allowed = [float(v) for v in allowed]
            checks.append(pa.Check.isin(list(allowed), error="allowed_values"))
        bounds = _resolve(spec.range, domain)
        if bounds is not None:
            lo, hi = bounds if not isinstance(bounds, Mapping) else (bounds["min"], bounds["max"])
            checks.append(pa.Check.in_range(lo, hi, error="range"))
        columns[name] = pa.Column(TYPES[spec.type], checks=checks, nullable=spec.nullable,
                                  required=False)
    frame_checks = [
        pa.Check(lambda df, r=RULES[rule]: _rule_mask(df, r, domain), error=rule)
        for rule in contract.rules
    ]
    key = (contract.key_in(columns_present) if columns_present is not None
           else list(contract.key))
    if columns_present is not None and not set(key) <= set(columns_present):
        key = []  # a key column is missing: reported as such, the key cannot be checked
    return pa.DataFrameSchema(
        columns,
        checks=frame_checks,
        unique=key or None,
        report_duplicates="all",
    )


def _is_subject_domain(allowed: Any) -> bool:
    return isinstance(allowed, Mapping) and allowed.get("domain") == "subject_ids"


def _rule_mask(df: pd.DataFrame, rule: Rule, domain: Domain) -> pd.Series:
    if any(c not in df.columns for c in rule.columns):
        return pd.Series(True, index=df.index)
    return rule.check(df, domain)


CONFIG_KEYS = {
    "visit_names": "design.visits", "visit_numbers": "design.visits",
    "parameter_codes": "design.parameters", "dose_levels": "design.dose_levels",
    "study_days": "design.study_days", "onset_days": "design.study_days",
    "age_range": "design.age_range",
}
"""The config key that sets each domain (``periods`` is explained on its own)."""


def _config_key(spec_values: Any, domain: Domain) -> str:
    """Where in the trial's config a domain's values come from, for messages."""
    name = spec_values.get("domain") if isinstance(spec_values, Mapping) else None
    if name == "periods":
        names = ", ".join(domain.periods)
        return ("design.periods" if names != "STUDY" else
                "design.periods, which lists none, so the one period is STUDY, the whole "
                "study: list the periods there")
    return CONFIG_KEYS.get(name, "")


def _describe(rule: str, column: str, value: Any, contract: Contract, domain: Domain) -> str:
    spec = contract.columns.get(column)
    if rule == "subject_in_subjects":
        return "is not a subject in the subjects dataset (USUBJID there)"
    if rule == "allowed_values" and spec is not None:
        allowed = _resolve(spec.allowed, domain)
        shown = ", ".join(show_value(v) for v in list(allowed)[:12])
        more = " ..." if len(allowed) > 12 else ""
        key = _config_key(spec.allowed, domain)
        source = f" (from the trial's config, {key})" if key else ""
        return f"is not one of the allowed values{source}: {shown}{more}"
    if rule == "range" and spec is not None:
        lo, hi = _resolve(spec.range, domain)
        key = _config_key(spec.range, domain)
        where = f" ({key})" if key else ""
        if lo == -math.inf:
            return f"is after the last allowed day {hi}{where}"
        return f"is outside the allowed range {lo} to {hi}{where}"
    if rule == "not_null":
        return "is empty but the column may not be empty"
    if rule == "unique_key":
        return f"the key ({column.replace('+', ', ')}) occurs on more than one row"
    if rule in RULES:
        return f"fails the rule that {RULES[rule].description}"
    return rule


def validate_frame(
    frame: pd.DataFrame, contract: Contract, domain: Domain, file: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate one dataset; returns the typed frame and its failures (possibly none)."""
    import pandera.pandas as pa

    rows: list[dict] = []
    present = set(frame.columns)
    hint = ""
    names = [str(c) for c in frame.columns if c != ROW_COLUMN]
    if len(names) == 1 and any(d in names[0] for d in ",;\t|"):
        hint = "; the header was read as a single column: is 'delimiter' in the config right?"
    for name in contract.required_columns:
        if name not in present:
            rows.append({"index": None, "column": name, "rule": "required_column",
                         "value": name,
                         "message": "required column is missing from the file's header "
                                    f"(columns present: {_present(frame)}){hint}"
                                    + _derived_by(contract.columns[name])})
    typed, type_failures = _coerce(frame, contract)
    rows.extend(type_failures)
    schema = build_schema(contract, domain, frame.columns)
    try:
        schema.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        rows.extend(_from_pandera(exc.failure_cases, contract, domain, frame, typed))
    typed_cells = {(r["index"], r["column"]) for r in type_failures}
    failures = []
    for r in rows:
        if r["rule"] == "not_null" and (r["index"], r["column"]) in typed_cells:
            continue  # already reported as a value of the wrong type
        row_number = 1 if r["index"] is None else int(frame.loc[r["index"], ROW_COLUMN])
        failures.append({
            "dataset": contract.dataset,
            "file": file,
            "row": row_number,
            "column": r["column"],
            "rule": r["rule"],
            "value": "" if r["value"] is None or r["value"] is pd.NA else str(r["value"]),
            "message": r["message"],
            "severity": "error",
        })
    out = pd.DataFrame(failures, columns=FAILURE_COLUMNS)
    out = out.drop_duplicates().sort_values(["row", "column", "rule"], kind="stable")
    return typed, out.reset_index(drop=True)


def _derived_by(spec: ColumnSpec) -> str:
    return f"; the config can derive it: {spec.derived_by}" if spec.derived_by else ""


def _present(frame: pd.DataFrame) -> str:
    return ", ".join(str(c) for c in frame.columns if c != ROW_COLUMN)


def _from_pandera(cases: pd.DataFrame, contract: Contract, domain: Domain,
                  raw: pd.DataFrame, typed: pd.DataFrame) -> list[dict]:
    """Failure rows from pandera's failure cases, with values as written in the user's file."""
    rows = []
    cases = cases.copy()
    cases["check"] = cases["check"].astype(str).replace({
        "not_nullable": "not_null", "multiple_fields_uniqueness": "unique_key"})
    for (rule, index), group in cases.groupby(["check", "index"], sort=False, dropna=False):
        if rule == "unique_key" or rule in RULES:
            cols = (contract.key_in(raw.columns) if rule == "unique_key"
                    else list(RULES[rule].columns))
            value = "; ".join(f"{c}={show_value(raw.loc[index, c])}" for c in cols)
            message = _describe(rule, "+".join(cols), value, contract, domain)
            explain = RULES[rule].explain if rule in RULES else None
            if explain is not None:
                message += f" ({explain(typed.loc[index], domain)})"
            explain_in = RULES[rule].explain_in if rule in RULES else None
            if explain_in is not None and (detail := explain_in(typed, index, domain)):
                message += f" ({detail})"
            if rule == "unique_key":
                same = (typed[cols] == typed.loc[index, cols]).all(axis=1)
                shown = ", ".join(str(n) for n in sorted(typed.loc[same, ROW_COLUMN]))
                message += f" (rows {shown})"
            rows.append(_failure_row(index, "+".join(cols), rule, value, message))
            continue
        for _, case in group.iterrows():
            value = case["failure_case"]
            if case["column"] in raw.columns and index in raw.index:
                value = raw.loc[index, case["column"]]  # as written, not as typed
            rows.append(_failure_row(index, case["column"], rule, value,
                                     _describe(rule, case["column"], value, contract, domain)))
    return rows


def summarise_failures(failures: pd.DataFrame, failures_path: str, limit: int = 5,
                       title: str = "Validation refused the data") -> str:
    """A few console lines: how many failures, of which rules, and where the full list is."""
    errors = failures[failures["severity"] == "error"]
    files = errors["file"].nunique()
    lines = [f"{title}: {len(errors)} failure(s) in {files} file(s)."]
    by_rule = errors.groupby("rule").size().sort_values(ascending=False)
    lines.append("By rule: " + ", ".join(f"{rule} {n}" for rule, n in by_rule.items()))
    for _, f in errors.head(limit).iterrows():
        where = f"row {f['row']}, " if f["row"] != "" else ""
        lines.append(f"  {f['file']} {where}column {f['column'] or '-'}, rule {f['rule']}: "
                     f"value {f['value']!r} {f['message']}")
    if len(errors) > limit:
        lines.append(f"  ... and {len(errors) - limit} more.")
    lines.append(f"Full list: {failures_path} (summary: summary.md in the same folder)")
    return "\n".join(lines)
