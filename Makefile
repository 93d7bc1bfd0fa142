# Every target installs what it needs into .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo demo-embeddings test lint jars bench install clean

$(STAMP): setup.cfg setup.py pyproject.toml pmmlkit/evaluator/native/_ckernels.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

DEMO_DATA := examples/data
PMMLKIT := $(VENV)/bin/pmmlkit

# The main job on the bundled example: generate, train + publish, score, summarise,
# then the training report and a drift check of the new data against the training data.
demo: $(STAMP)
	mkdir -p $(DEMO_DATA)
	$(PY) examples/generate_ctr.py $(DEMO_DATA)/ctr.csv --rows 20000 --seed 42
	$(PY) examples/generate_ctr.py $(DEMO_DATA)/ctr_new.csv --rows 5000 --seed 7
	printf '7.5,abc,1.2,0.05,2,ios,news,travel,US,0\n3,40,1.0,0.01\n' >> $(DEMO_DATA)/ctr_new.csv
	$(PMMLKIT) train examples/ctr_spec.yaml --data $(DEMO_DATA)/ctr.csv --repo models
	$(PMMLKIT) score $(DEMO_DATA)/ctr_new.csv -m ctr -o $(DEMO_DATA)/ctr_scored.csv --keep country \
		--repo models --max-errors 10
	$(PMMLKIT) models list --repo models
	@echo "first scored rows ($(DEMO_DATA)/ctr_scored.csv):"; head -4 $(DEMO_DATA)/ctr_scored.csv
	@echo "rejected rows ($(DEMO_DATA)/ctr_scored.rejects.csv):"; cut -c1-110 $(DEMO_DATA)/ctr_scored.rejects.csv
	$(PMMLKIT) models report -m ctr --repo models -o $(DEMO_DATA)/ctr_report.html
	$(PMMLKIT) drift -m ctr $(DEMO_DATA)/ctr_new.csv --repo models -o $(DEMO_DATA)/ctr_drift
	$(PMMLKIT) score $(DEMO_DATA)/ctr_new.csv -m ctr -o $(DEMO_DATA)/ctr_explained.csv --explain \
		--repo models --max-errors 10
	@echo "why the first rows got their scores ($(DEMO_DATA)/ctr_explained.csv):"; \
		head -3 $(DEMO_DATA)/ctr_explained.csv | cut -d, -f1,4-

# Two towers: ALS embeddings -> file store -> logistic last layer -> served top-k ads for a user.
demo-embeddings: $(STAMP)
	$(PY) examples/recommend.py --workdir build/recommend-demo

# pytest exits 5 when nothing was collected: a failure of the suite, not a pass.
test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# ruff (lint + import order) and mypy (strict on pmml/, evaluator/, repository/); see pyproject.toml.
# Both run whole before the status is given, so one run lists every finding.
lint: $(STAMP)
	rc=0; $(VENV)/bin/ruff check . || rc=1; $(VENV)/bin/mypy || rc=1; exit $$rc

# The JPMML-SparkML jars (and dependencies) for spark-submit --jars, from the installed packages.
jars: $(STAMP)
	$(PMMLKIT) jars --dest jars

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) models examples/data benchmarks/out spark-warehouse
