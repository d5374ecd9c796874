"""Networks: what the state is and how one step of dynamics evolves it."""

from neurodyn.networks.attractor import FreeEnergyAttractorNetwork as FreeEnergyAttractorNetwork
from neurodyn.networks.binary import BinarySteeringNetwork as BinarySteeringNetwork
from neurodyn.networks.binary import Relaxation as Relaxation
from neurodyn.networks.binary import SteeringState as SteeringState
from neurodyn.networks.binary import SteeringWeights as SteeringWeights
