"""What every stage shares: the trial's config parsed into typed objects (``config``),
running a stage with its log and refusals (``runner``), atomic file writing and hashing
(``files``), deterministic number text and half-up rounding (``formatting``), and small
data-frame helpers (``frames``). ``config``, ``runner``, ``files`` and ``formatting`` use
the standard library only, so Snakemake's own process and the lightest stages pay for no
third-party import."""
