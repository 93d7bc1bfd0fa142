"""Element compilers; importing this package registers every one of them by element name."""
from . import clustering, general_regression, mining, neural_network, regression, tree  # noqa: F401
