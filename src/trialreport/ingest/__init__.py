"""Rule ``ingest``: read each dataset as the trial's config declares it, select the records
to use, and write them as Parquet (``stage.ingest``).

``reading`` dispatches by format to ``delimited``, ``xpt`` and ``datasetjson`` (and reads
Parquet itself); ``source`` holds what the readers share (``InputFileError``, the row-number
column); ``records`` selects records (``where``, derived BDS records), checks subject-level
copies and derives periods."""
