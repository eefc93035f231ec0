"""The statistical methods, data in and numbers out; each cites its source.

``distributions`` (distribution functions from ``scipy.special`` alone), ``descriptive``,
``paired`` (t, Wilcoxon, Hodges-Lehmann, effect sizes, McNemar), ``proportions``
(Clopper-Pearson, chi-square, Fisher, CMH), ``ancova`` and ``models`` (between-arm linear
models), ``mmrm`` (the mixed model for repeated measures, with ``mmrm_design``,
``mmrm_covariance`` and ``mmrm_inference``), ``imputation`` (missing data under named
assumptions, rbmi's strategies, with ``imputation_data``, ``imputation_model`` and
``imputation_pool``), ``multiplicity`` (Holm within a family) and ``multiplicity_strategy``
(an analysis plan's strategy, with ``multiplicity_inputs``). Every method has a test
against an independent computation."""
