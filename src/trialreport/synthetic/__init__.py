"""The generators of the shipped synthetic trials (``nfc1``, ``saga``) and of the scaled
benchmark trial (``scaled``), with what they share in ``dataset``. Seeded and deterministic:
``trialreport make-reference-data`` rewrites the shipped CSVs byte for byte."""
