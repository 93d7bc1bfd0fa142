"""Training side: Spark sessions, specs, pipelines, PMML export. The only package that imports pyspark."""
