"""Trade scoring: per-symbol analysis, the six components, confluence and the score of one trade."""
