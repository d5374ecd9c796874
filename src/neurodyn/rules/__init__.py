"""Learning rules: how weights change; every rule is an object passed as ``rule=``.

The steering rule (:class:`SteeringRule`) trains binary steering networks, the free-energy
rule (:class:`FreeEnergyRule`) attractor networks, and the rate-RNN rules (:class:`BPTT`,
:class:`EProp`, :class:`RFLO`, :class:`GradientFlossing`) follow one contract
(:mod:`neurodyn.rules.rate_rule`) and are registered by name: ``get("eprop")()``.
"""

from neurodyn.rules.bptt import BPTT as BPTT
from neurodyn.rules.eprop import EProp as EProp
from neurodyn.rules.flossing import GradientFlossing as GradientFlossing
from neurodyn.rules.free_energy import FreeEnergyRule as FreeEnergyRule
from neurodyn.rules.rate_rule import BatchRule as BatchRule
from neurodyn.rules.rate_rule import RateRule as RateRule
from neurodyn.rules.rate_rule import get as get
from neurodyn.rules.rate_rule import names as names
from neurodyn.rules.rate_rule import register as register
from neurodyn.rules.rflo import RFLO as RFLO
from neurodyn.rules.steering import SteeringRule as SteeringRule
