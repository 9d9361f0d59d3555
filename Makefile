# Two commands for a fresh machine with Python 3.10+: `make demo` and `make test`.
# Both create and use a local virtual environment in .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: demo test install install-cluster clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

# The optional extra for `reproduce FIG --scheduler tcp://HOST:PORT` (dask.distributed; docs/cluster.md).
$(VENV)/.cluster-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[cluster]"
	touch $@

install-cluster: $(VENV)/.cluster-installed

demo: $(VENV)/.installed
	$(PY) -m superspike_ref demo

test: $(VENV)/.installed
	$(PY) -m pytest --nbval --doctest-glob="*.md" tests superspike_ref notebooks docs

clean:
	rm -rf $(VENV) .pytest_cache
