# Two commands on a fresh machine: `make lab` (students) and `make test` (CI, contributors).
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Notebook kernels are started by name ("python3"); the venv first on PATH makes that its python.
export PATH := $(abspath $(VENV))/bin:$(PATH)
export OMP_NUM_THREADS := 1
# MKL's code path the same on every CPU, for every kernel started from here (autograd_course/arithmetic.py).
export MKL_CBWR := COMPATIBLE
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup lab test review-messages build validate autograde feedback export bench lock clean hub hub-stop

# system-packages first: bubblewrap (make autograde) and chromium (browser tests) are Debian packages.
setup: system-packages $(STAMP)

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

# A student works in a copy of notebooks/ of their own (MY_NOTEBOOKS, gitignored by default), as fetching from nbgrader's
# exchange gives it: the committed release folder stays what the next release hands out. New assignments are copied
# in; nothing already there is overwritten.
MY_NOTEBOOKS ?= my-notebooks
lab: setup
	mkdir -p "$(MY_NOTEBOOKS)" && cp -R -n notebooks/. "$(MY_NOTEBOOKS)/"
	jupyter lab --ServerApp.root_dir="$(MY_NOTEBOOKS)" $(ALLOW_ROOT)

# One pytest worker per core (pytest-xdist): most tests wait on one kernel at a time. Each test file, and each
# notebook nbval replays, is one work unit that stays on one worker, so its fixtures are built once; a file whose
# tests would keep a worker busy for minutes is cut into smaller units (tests/work_units.py). Units are
# handed out in the order collected, the longest first, not reordered by size (--no-loadscope-reorder).
# Every test's time goes to build/make-test.xml (JUnit XML), to find what keeps a worker busy.
TEST_WORKERS ?= $(shell nproc)
test: setup
	$(PYTHON) -m pytest -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=12 \
	  --junitxml=build/make-test.xml --nbval --nbval-current-env solutions/ tests/

# Every exercise's failure message in JupyterLab, one mistake per exercise, for a person to read (not a CI test):
# screenshots/every_message/<id>/. ASSIGNMENT=<id> reads one notebook.
review-messages: setup
	$(PYTHON) -m pytest -p no:cacheprovider -s -m review tests/browser/test_every_message_in_jupyterlab.py \
	  $(if $(ASSIGNMENT),-k $(ASSIGNMENT))

build: setup
	$(PYTHON) -m autograd_course.build

validate: setup
	@test -n "$(NOTEBOOK)" || { echo "usage: make validate NOTEBOOK=path/to/notebook.ipynb"; exit 2; }
	$(PYTHON) -m autograd_course.validate $(NOTEBOOK)

# Instructor grading (README, "Grading"): sandboxed autograde, feedback without hidden tests, grades.csv.
# ASSIGNMENT may name several ids; WORKERS defaults to one per core; SCHEDULER=<address> grades on a Dask cluster.
autograde: setup
	@test -n "$(ASSIGNMENT)" || { echo "usage: make autograde ASSIGNMENT=<id> [WORKERS=n | SCHEDULER=address]" \
	  "[UNSAFE=1] [FORCE=1]"; exit 2; }
	$(PYTHON) -m autograd_course.grading.autograde $(ASSIGNMENT) $(if $(UNSAFE),--unsafe) $(if $(FORCE),--force) \
	  $(if $(WORKERS),--workers $(WORKERS)) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

feedback: setup
	@test -n "$(ASSIGNMENT)" || { echo "usage: make feedback ASSIGNMENT=<id>"; exit 2; }
	$(PYTHON) -m nbgrader generate_feedback $(ASSIGNMENT) --force

export: setup
	$(PYTHON) -m nbgrader export

# A benchmark, not a test: plain nbgrader against the trusted grader on a simulated class (README, "Grading a whole
# class fast"). STUDENTS (default 60) sizes the class; figures go to build/bench/.
bench: setup
	$(PYTHON) -m autograd_course.grading.bench $(if $(STUDENTS),--students $(STUDENTS))

# After make autograde: what the class got wrong (README, "What the class got wrong"), in reports/<id>/index.html with
# its PNG figures and report.json. ASSIGNMENT may name several ids; NAMES=1 names the students (anonymous otherwise);
# COURSE=<folder> reads another course folder, e.g. COURSE=build/bench/class, the simulated class make bench graded.
.PHONY: report
report: setup
	@test -n "$(ASSIGNMENT)" || { echo "usage: make report ASSIGNMENT=<id> [NAMES=1] [COURSE=folder]"; exit 2; }
	$(PYTHON) -m autograd_course.report $(ASSIGNMENT) $(if $(filter 1,$(NAMES)),--names) \
	  $(if $(COURSE),--root $(COURSE))

# A class on a JupyterHub on this machine (README, "Teaching a class on JupyterHub"), as root: accounts instructor,
# instructor2..GRADERS (default 1: instructor only), student1..STUDENTS (default 3; each new password printed once),
# the formgrader service's account grader-autograd-course (no password), 01_chain_rule released, the hub on
# http://HUB_IP:HUB_PORT (it also uses the next three ports). State (hub database, cookie secret, exchange) in HUB_STATE.
# make hub-stop ends the hub and every server it started; PURGE=1 also removes the accounts, groups and state.
HUB_STATE ?= /var/lib/autograd-course-hub
HUB_IP ?= 127.0.0.1
HUB_PORT ?= 8000
hub: setup
	$(PYTHON) -m autograd_course.hub start --state $(HUB_STATE) --ip $(HUB_IP) --port $(HUB_PORT) \
	  --students $(or $(STUDENTS),3) --graders $(or $(GRADERS),1)

hub-stop:
	$(PYTHON) -m autograd_course.hub stop --state $(HUB_STATE) $(if $(filter 1,$(PURGE)),--purge)

# torch's local tag (+cpu) names a build no public index serves; torch==2.13.0 matches it anyway.
lock: setup
	{ sed -n 1,2p constraints.txt; $(PYTHON) -m pip list --format=freeze --exclude-editable \
	  | grep -v -E '^(pip|setuptools)==' | sed -E 's/^(torch==[^+]+)\+cpu$$/\1/'; } > constraints.tmp \
	  && mv constraints.tmp constraints.txt

clean:
	rm -rf $(VENV)

# Debian packages the tests need: chromium (browser tests, tests/browser/) and bubblewrap (sandboxed grading).
# apt-get update runs only when a package is missing; without root it says what is missing and skips.
SYSTEM_PACKAGES := chromium bubblewrap
.PHONY: system-packages
system-packages:
	@missing="$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null \
	  | grep -qx installed || echo $$p; done | xargs)"; \
	if [ -z "$$missing" ]; then echo "system-packages: already installed: $(SYSTEM_PACKAGES)"; \
	elif ! command -v apt-get >/dev/null; then echo "system-packages: SKIPPED, not a Debian-like system;" \
	  "install $$missing yourself (make autograde needs bubblewrap, or UNSAFE=1)"; \
	elif [ "$$(id -u)" != 0 ]; then echo "system-packages: SKIPPED, not root; missing Debian packages: $$missing" \
	  "(run: sudo make system-packages; the browser tests skip without chromium)"; \
	else echo "system-packages: installing $$missing"; apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi
