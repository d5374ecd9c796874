"""Analyses of networks: attractors and orthogonality, capacity, Lyapunov spectra, fixed
and slow points of any dynamics (batched, slow_points.py), fixed points of random
asymmetric binary networks (enumeration, asynchronous dynamics, focusing BP)."""

from neurodyn.analysis.lyapunov import StepDynamics as StepDynamics
from neurodyn.analysis.lyapunov import lyapunov_spectrum as lyapunov_spectrum
from neurodyn.analysis.slow_points import find_fixed_points as find_fixed_points
