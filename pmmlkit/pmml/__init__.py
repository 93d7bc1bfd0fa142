"""Safe loading and typed description of PMML documents."""
