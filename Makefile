# Two commands do the whole set-up on a fresh machine with Python 3.11:
#   make demo   create .venv, install, warm numba, start the app on http://127.0.0.1:8501
#   make test   the same set-up, then the full test suite
# Both are idempotent: the environment is rebuilt only when pyproject.toml changes.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.recviz-installed
PORT   ?= 8501
PYTEST_ARGS ?=

.PHONY: demo test setup browser lint clean

setup: $(STAMP)

PLUGIN := examples/recviz-plugin-example

$(STAMP): pyproject.toml $(PLUGIN)/pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "recviz needs $(PYTHON) on PATH (or run: make PYTHON=/path/to/python3.11 ...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: a CPU wheel; an unpinned torch pulls a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	# the worked example of a model plugin (docs/extending.md), which the tests run end to end; --no-deps:
	# its one dependency is recviz, installed just above, so it can never pull another torch
	$(PY) -m pip install --quiet --no-deps -e $(PLUGIN)
	# the first `import umap` compiles with numba (~25 s): pay it once here, not in the app or the tests
	$(PY) -c "import umap"
	touch $(STAMP)

# Debian's Chromium for the browser test; installed by CI when missing (playwright's own download cannot work here)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$${CI:-}" = "true" ]; then \
	    echo "installing Debian's chromium for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else \
	    echo "note: /usr/bin/chromium is missing, the browser test will be skipped (apt-get install chromium)"; \
	  fi; \
	fi

demo: $(STAMP)
	# `streamlit run app.py`, with torch, captum and the default model loaded while the browser starts
	$(PY) -m recviz.ui.launch --server.address 127.0.0.1 --server.port $(PORT)

test: $(STAMP) browser
	$(PY) -m pytest -q -n 2 --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check recviz tests bench app.py scripts $(PLUGIN)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
