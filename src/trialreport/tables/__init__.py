"""Rule ``tables``: the display tables as CSV (``stage.write_display_tables``), built by
``display`` from ``ard.csv`` only: one builder per table, formatting and ordering, no
statistics."""
