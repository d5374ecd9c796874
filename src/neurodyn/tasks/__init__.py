"""Tasks and data sets; trial-based tasks are registered by name (:func:`get`)."""

from neurodyn.tasks import decision, flipflop, romo  # noqa: F401  (they register their tasks)
from neurodyn.tasks._base import ClassificationData as ClassificationData
from neurodyn.tasks._base import TrialBatch as TrialBatch
from neurodyn.tasks._base import TrialSampling as TrialSampling
from neurodyn.tasks.decision import DelayMatchSample as DelayMatchSample
from neurodyn.tasks.decision import PerceptualDecision as PerceptualDecision
from neurodyn.tasks.digits import digit_patterns as digit_patterns
from neurodyn.tasks.digits import two_bars as two_bars
from neurodyn.tasks.mnist import entangled_mnist as entangled_mnist
from neurodyn.tasks.mnist import load_mnist as load_mnist
from neurodyn.tasks.mnist import mnist_pixels as mnist_pixels
from neurodyn.tasks.neurogym import NeurogymTask as NeurogymTask
from neurodyn.tasks.patterns import prototype_patterns as prototype_patterns
from neurodyn.tasks.patterns import random_associations as random_associations
from neurodyn.tasks.registry import get as get
from neurodyn.tasks.registry import names as names
from neurodyn.tasks.registry import register as register
from neurodyn.tasks.romo import Romo as Romo
