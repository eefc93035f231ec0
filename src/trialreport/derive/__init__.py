"""Rule ``derive``: baseline flags, BASE, CHG, PCHG and the LOCF data (``stage.derive``),
from ADaM-style derivations in ``derivations`` (one function, one derivation)."""
