"""Rule ``validate``: every dataset against its data contract, every failure at once
(``stage.validate``).

``contracts`` turns ``schemas/<dataset>.yaml`` into pandera schemas and validates lazily;
``rules`` holds the dataset-level rules a contract can name; ``failures`` writes the report
of a refused run (``failures.csv``, ``summary.md``)."""
