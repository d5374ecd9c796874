"""Networks: what the state is and how one step of dynamics evolves it."""

from neurodyn.networks.attractor import FreeEnergyAttractorNetwork as FreeEnergyAttractorNetwork
from neurodyn.networks.binary import BinarySteeringNetwork as BinarySteeringNetwork
from neurodyn.networks.steering_state import Relaxation as Relaxation
from neurodyn.networks.steering_state import SteeringState as SteeringState
from neurodyn.networks.steering_state import SteeringWeights as SteeringWeights
