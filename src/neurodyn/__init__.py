"""neurodyn: learning in recurrent neural dynamics with local, biologically plausible rules."""

__version__ = "0.1.0"
