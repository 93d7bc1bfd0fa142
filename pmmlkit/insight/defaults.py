"""Defaults of insight that the command line shows in --help, in a module that imports nothing."""

DEFAULT_THRESHOLD = 0.2  # PSI above which a field has drifted: the customary "act on it" level
