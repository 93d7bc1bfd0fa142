"""Element compilers; importing this package registers every one of them by element name."""
from . import (  # noqa: F401  # noqa: F401
    clustering,
    general_regression,
    mining,
    naive_bayes,
    nearest_neighbor,
    neural_network,
    regression,
    scorecard,
    support_vector_machine,
    tree,
)
