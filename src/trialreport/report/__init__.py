"""Rule ``report``: ``reports/report.qmd`` rendered with Quarto, or with Jupyter where Quarto
is missing (``render.render_report``). The report's content is built by the sections of
``sections``, each a small function from the trial's results to Markdown."""
