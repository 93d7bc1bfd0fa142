"""Training side of the two towers, on Spark: ALS embeddings (als.py) and the last layer (ranker.py).

The request-time side (stores, lookups) is ``pmmlkit.embeddings`` and imports no Spark.
"""
