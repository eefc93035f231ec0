"""Rule ``reproduce``: published figures against the analysis results
(``stage.reproduce_targets``), with the standard library only.

``targets`` reads each target as printed and compares it at the published precision;
``grim`` lists the sample sizes a published mean can come from; ``consistency`` checks
whether published percentages and p values can all hold with whole-number data."""
