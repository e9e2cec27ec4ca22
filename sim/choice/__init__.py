"""Mode choice: generalised cost, logit, the congestion fixed point, rail times, the fit."""
