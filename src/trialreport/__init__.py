"""Reproducible clinical-trial reports, one subpackage per stage of the Snakefile.

Each rule in ``workflow/rules/<stage>.smk`` runs ``workflow/scripts/<stage>.py``, which calls
one function of this package (``run_stage`` logs it and turns a refusal into a message):

=========== ==================================== ===========================================
rule        function the script calls            what else the stage's folder holds
=========== ==================================== ===========================================
ingest      ``ingest.stage.ingest``              ``reading`` (by format: ``delimited``,
                                                 ``xpt``, ``datasetjson``), ``records``
                                                 (record selection), ``source``
validate    ``validate.stage.validate``          ``contracts`` (schemas/*.yaml as pandera
                                                 schemas), ``rules``, ``failures``
derive      ``derive.stage.derive``              ``derivations`` (BASE, CHG, LOCF, ...)
analyse     ``analyse.stage.analyse``            ``ard`` (the table and its names),
                                                 ``efficacy``, ``responders``,
                                                 ``between_arms``, ``safety``, ``subjects``
reproduce   ``reproduce.stage.reproduce_targets`` ``targets``, ``grim``, ``consistency``
tables      ``tables.stage.write_display_tables`` ``display`` (one builder per table)
figures     ``figures.stage.write_figures``      one module per figure, ``style``, ``data``,
                                                 ``captions``
provenance  ``provenance.provenance``            (one module)
report      ``report.render.render_report``      ``report/sections`` (one module per
                                                 section of ``reports/report.qmd``)
=========== ==================================== ===========================================

Shared by every stage: ``common`` (the trial's config as typed objects, running a stage,
atomic file writing, number formatting). The statistical methods, data in and numbers out,
each with its reference: ``stats``. The generators of the shipped synthetic trials and of
the scaled benchmark trial: ``synthetic`` (``trialreport make-reference-data``,
``trialreport make-scaled-trial``; ``cli``).

Imports flow one way (``tests/test_package_layout.py`` checks there is no cycle), and a
stage's modules import late what only some trials need, since every job is a new process.
"""
