"""Learning rules: how weights change; every rule is an object passed as ``rule=``."""

from neurodyn.rules.flossing import GradientFlossing as GradientFlossing
from neurodyn.rules.free_energy import FreeEnergyRule as FreeEnergyRule
from neurodyn.rules.steering import SteeringRule as SteeringRule
