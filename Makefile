# Two commands on a fresh machine: `make lab` (students) and `make test` (CI, contributors).
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Notebook kernels are started by name ("python3"); the venv first on PATH makes that its python.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export OMP_NUM_THREADS := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup lab test build validate lock clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-test.txt constraints.txt pyproject.toml jupyter/overrides.json
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@# JupyterLab defaults for a course: no news or update pop-ups over the notebook.
	install -D -m 644 jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@# Build matplotlib's font cache now: doing it inside a notebook writes to stderr.
	MPLBACKEND=Agg $(PYTHON) -c "import matplotlib.pyplot"
	touch $@

# Jupyter refuses to start as root unless told; containers and Binder-like images often run as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: setup
	jupyter lab --ServerApp.root_dir=notebooks $(ALLOW_ROOT)

test: setup
	$(PYTHON) -m pytest -p no:cacheprovider --nbval --nbval-current-env solutions/
	$(PYTHON) -m pytest -p no:cacheprovider tests/

build: setup
	$(PYTHON) -m autograd_course.build

validate: setup
	@test -n "$(NOTEBOOK)" || { echo "usage: make validate NOTEBOOK=path/to/notebook.ipynb"; exit 2; }
	$(PYTHON) -m autograd_course.validate $(NOTEBOOK)

# torch's local tag (+cpu) names a build no public index serves; torch==2.13.0 matches it anyway.
lock: setup
	{ sed -n 1,2p constraints.txt; $(PYTHON) -m pip list --format=freeze --exclude-editable \
	  | grep -v -E '^(pip|setuptools)==' | sed -E 's/^(torch==[^+]+)\+cpu$$/\1/'; } > constraints.tmp \
	  && mv constraints.tmp constraints.txt

clean:
	rm -rf $(VENV)
