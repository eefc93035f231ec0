"""The statistical methods, data in and numbers out; each cites its source.

``distributions`` (distribution functions from ``scipy.special`` alone), ``descriptive``,
``paired`` (t, Wilcoxon, Hodges-Lehmann, effect sizes, McNemar), ``proportions``
(Clopper-Pearson, chi-square, Fisher, CMH), ``ancova`` and ``models`` (between-arm linear
models), ``mmrm`` (the mixed model for repeated measures, with ``mmrm_design``,
``mmrm_covariance`` and ``mmrm_inference``), ``multiplicity``. Every method has a test
against an independent computation."""
