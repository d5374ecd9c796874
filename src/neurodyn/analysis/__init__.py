"""Analyses of trained networks: attractors, orthogonality, capacity."""
