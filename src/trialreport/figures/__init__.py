"""Rule ``figures``: the trial's figures as PNG and SVG (``stage.write_figures``).

One module per figure (``means``, ``ratings``, ``trajectories``, ``forest``), their shared
look in ``style``, what they draw in ``data`` (read from ``ard.csv``, or counted from the
participant-level data and checked against it), and their words in ``captions``."""
