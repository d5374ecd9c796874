"""Training loops: one verb per workflow, rules and tasks passed in as arguments."""

from neurodyn.training.association import train_until_stored as train_until_stored
from neurodyn.training.attractor import learn_patterns as learn_patterns
from neurodyn.training.classification import EpochMetrics as EpochMetrics
from neurodyn.training.classification import RandomStreams as RandomStreams
from neurodyn.training.classification import evaluate as evaluate
from neurodyn.training.classification import train as train
from neurodyn.training.classification import train_epoch as train_epoch
from neurodyn.training.rate import train_rate as train_rate
