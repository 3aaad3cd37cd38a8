"""enforcement-engine: the platform (``core``) and the case domains (``cases``, ``assets``)."""
