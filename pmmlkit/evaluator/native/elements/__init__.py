"""Element compilers; importing this package registers every one of them by element name."""
from . import clustering, general_regression, mining, neural_network, regression, tree  # noqa: F401
from . import naive_bayes, nearest_neighbor, support_vector_machine  # noqa: F401
