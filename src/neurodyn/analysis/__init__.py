"""Analyses of networks: attractors and orthogonality, capacity, Lyapunov spectra, fixed
points of random asymmetric networks (enumeration, asynchronous dynamics, focusing BP)."""

from neurodyn.analysis.lyapunov import StepDynamics as StepDynamics
from neurodyn.analysis.lyapunov import lyapunov_spectrum as lyapunov_spectrum
