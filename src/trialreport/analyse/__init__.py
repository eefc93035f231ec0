"""Rule ``analyse``: the analysis-results table, ``ard.csv`` (``stage.analyse``).

``ard`` defines the table (its columns, ``ArdBuilder``, the group and statistic names it
uses) and reads it back; ``efficacy`` builds the efficacy rows (by visit, paired, subgroups)
with ``responders`` and ``between_arms``; ``safety`` builds the adverse-event rows and the
safety part of the table, with ``subjects`` (demographics, disposition, exposure). The
methods themselves are in ``trialreport.stats``."""
