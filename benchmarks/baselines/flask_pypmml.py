"""Baseline: the common way to serve PMML from Python — Flask + gunicorn + pypmml.

The model is loaded once at import (``Model.fromFile``), and every request scores
one JSON record with ``model.predict(record)``. Run it as::

    BASELINE_PMML=model.pmml gunicorn -w 2 -b 127.0.0.1:8600 --chdir benchmarks/baselines flask_pypmml:app
"""
from __future__ import annotations

import os

from flask import Flask, jsonify, request
from pypmml import Model

model = Model.fromFile(os.environ["BASELINE_PMML"])
app = Flask(__name__)


@app.post("/predict")
def predict():
    # pypmml answers a dict record with a py4j JavaMap: copy it into a plain dict for JSON.
    return jsonify(dict(model.predict(request.get_json())))
