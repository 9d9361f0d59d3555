# Two commands for a fresh machine with Python 3.10+: `make demo` and `make test`.
# Both create and use a local virtual environment in .venv.
# `make book` adds the docs extra to .venv and builds the book into build/book/html (never runs a
# notebook); `make notebooks` starts Jupyter Lab in notebooks/ with .venv's Python as the kernel.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: demo test test-torch install install-cluster book notebooks clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e ".[docs]"
	touch $@

BOOK ?= build/book/html

# -W: every Sphinx warning is an error (the build has no suppressed warnings).
book: $(VENV)/.docs-installed
	$(PY) -m sphinx -W --keep-going -b html -d build/book/doctrees . $(BOOK)
	@echo "The book: $(BOOK)/index.html (or: $(PY) -m http.server -d $(BOOK), then http://localhost:8000)"

# The notebooks ask for the kernel "python3". A kernelspec of that name inside .venv, pointing at
# .venv's Python, and JUPYTER_PATH put first, so that a user-wide "python3" kernel (a system Python
# without superspike_ref: ModuleNotFoundError) cannot win. Extra options: make notebooks LAB_ARGS=--no-browser
LAB_ARGS ?=
notebooks: $(VENV)/.installed
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (superspike_ref .venv)"
	JUPYTER_PATH="$(abspath $(VENV))/share/jupyter" $(PY) -m jupyter lab $(LAB_ARGS) notebooks

# The optional extra for `reproduce FIG --scheduler tcp://HOST:PORT` (dask.distributed; docs/cluster.md).
$(VENV)/.cluster-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[cluster]"
	touch $@

install-cluster: $(VENV)/.cluster-installed

demo: $(VENV)/.installed
	$(PY) -m superspike_ref demo

test: $(VENV)/.installed
	$(PY) -m pytest --nbval --doctest-glob="*.md" tests superspike_ref notebooks docs

# The PyTorch example and its tests (tests/test_torch_example.py; they skip under `make test`
# without torch). Installs the torch extra into .venv: torch==2.13.0, the CPU wheel if pip is
# pointed at one (PIP_FIND_LINKS or --index-url https://download.pytorch.org/whl/cpu).
$(VENV)/.torch-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e ".[torch]"
	touch $@

test-torch: $(VENV)/.torch-installed
	$(PY) -m pytest -m torch tests/test_torch_example.py

clean:
	rm -rf $(VENV) .pytest_cache build/book
