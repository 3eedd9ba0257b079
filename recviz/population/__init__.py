"""Population analytics: every user of a checkpoint through batched explanations, on Ray, as Parquet."""

# Integrated Gradients steps of a population run (explain's default is 50): Gauss-Legendre converges fast
# on these paths, and 20 steps cost 2.5x less (docs/population.md)
POPULATION_IG_STEPS = 20
