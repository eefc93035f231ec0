"""The ingest stage's floor: Arrow CSV reading with the same checks and outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# ingest: the trial's CSV files read as text and written as Parquet
# ---------------------------------------------------------------------------------------


def ingest_floor(paths: dict[str, Any], outputs: dict[str, Any]) -> dict[str, int]:
    """What the ingest stage does with a trial of plain CSV files (no column map, codes or
    ``where`` in the config, as the benchmark trial): every column read as text (Arrow's
    CSV reader), values stripped, empty ones missing, rows with no value left out, a
    ragged row or an undecodable byte refused; ``SRCROW``, the line number; each dataset
    written as Parquet. Returns the records per dataset (the stage's selection counts).

    The floor's regime: no quotes and no empty lines (its row numbers are the line
    numbers only then; it asserts so)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    counts = {}
    for name, path in paths.items():
        raw = Path(path).read_bytes()
        header = [h.strip() for h in raw[:raw.index(b"\n")].decode().split(",")]
        assert "" not in header and len(set(header)) == len(header), "header"
        table = pacsv.read_csv(  # ragged rows and bytes that are not UTF-8 raise
            pa.py_buffer(raw), read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()),
                                                 null_values=[""], strings_can_be_null=True))
        columns = []
        for column in table.columns:
            trimmed = pc.utf8_trim_whitespace(column)
            if pc.sum(pc.binary_length(trimmed)) != pc.sum(pc.binary_length(column)):
                column = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()),
                                    trimmed)
            columns.append(column)
        assert raw.count(b"\n") + (not raw.endswith(b"\n")) == table.num_rows + 1, \
            "empty lines: outside the floor's regime"
        table = pa.table([*columns, pa.array(np.arange(2, table.num_rows + 2))],
                         names=[*header, "SRCROW"])
        if min(c.null_count for c in columns):  # rows with no value (only delimiters)
            blank = pc.and_kleene(*[pc.is_null(c) for c in columns[:2]])
            for column in columns[2:]:
                blank = pc.and_kleene(blank, pc.is_null(column))
            table = table.filter(pc.invert(blank))
        assert table.num_rows > 0, "no data rows"
        pq.write_table(table, outputs[name])
        counts[name] = table.num_rows
    return counts
