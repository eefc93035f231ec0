"""Rule ``tables``: the display tables as CSV (``stage.write_display_tables``), built by
``display`` from ``ard.csv`` only: one builder per table (cells formatted by ``cells``,
codes put in words by ``labels``), formatting and ordering, no
statistics."""
