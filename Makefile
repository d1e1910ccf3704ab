# etiquette: the two commands for a fresh Debian machine.
#
#   make samples   set up, then check the sample calls in samples/ into out/samples/
#   make test      set up, then run the whole test suite
#   make eval      set up, then score the checks on ../shared/eval/dev (when it exists)
#
# Set-up, each step skipped when it is already done:
#   1. Debian packages: espeak-ng and sox (the tests make spoken test calls with
#      them), chromium (the HTML report and `etiquette review` are tested in it,
#      headless, driven by Playwright), postgresql
#      (the results database is tested on a real server the tests start), and
#      python3 / python3-venv when `python3 -m venv` cannot work.
#      Installed with apt-get as root, or through sudo.
#   2. .venv/ with `pip install -e '.[test]'`, redone when pyproject.toml changes
#      (the stamp file .venv/.installed records the last install).
#
# Every path here is relative to this folder, so a checkout whose path has spaces
# works; names given on the command line (OUT=..., EVAL_DIR=...) must not have any.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
OUT ?= out/samples
EVAL_DIR ?= ../shared/eval/dev

.PHONY: help samples test eval setup system-packages clean

help:
	@echo "make samples   set up, then check the sample calls into $(OUT)/"
	echo "make test      set up, then run the test suite"
	echo "make eval      set up, then score the checks on $(EVAL_DIR)"
	echo "make clean     remove out/ (keeps .venv/)"

samples: setup
	@status=0
	# samples/manifest.csv is the sample call log (agents, teams, accounts, start times): it adds the
	# calling-hours and call-frequency checks and the per-agent and per-team tables.
	manifest=""
	if [ -f samples/manifest.csv ]; then manifest="--manifest samples/manifest.csv"; fi
	echo "$(VENV)/bin/etiquette check samples --out $(OUT) $$manifest"
	$(VENV)/bin/etiquette check samples --out $(OUT) $$manifest || status=$$?
	# Exit status 1 means "findings found": what the samples are there to show.
	if [ "$$status" -gt 1 ]; then exit "$$status"; fi
	echo
	echo "Reports: $(OUT)/<call_id>.report.json, one row per input in $(OUT)/summary.csv,"
	echo "per agent and team in $(OUT)/by_agent.csv, every run in $(OUT)/results.db (etiquette stats --db $(OUT)/results.db --by agent);"
	echo "to listen to the findings and decide on them: $(VENV)/bin/etiquette review $(OUT)"

test: setup
	$(VENV)/bin/python -m pytest

eval: setup
	@if [ ! -d $(EVAL_DIR) ]; then echo "no $(EVAL_DIR) folder: nothing to score"; exit 0; fi
	echo "$(VENV)/bin/etiquette eval $(EVAL_DIR)"
	$(VENV)/bin/etiquette eval $(EVAL_DIR)

setup: system-packages $(STAMP)

system-packages:
	@need=""
	command -v espeak-ng >/dev/null 2>&1 || need="$$need espeak-ng"
	command -v sox >/dev/null 2>&1 || need="$$need sox"
	command -v chromium >/dev/null 2>&1 || need="$$need chromium"
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"
	if [ ! -x $(VENV)/bin/python ]; then
	    command -v $(PYTHON) >/dev/null 2>&1 || need="$$need python3"
	    $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1 || need="$$need python3-venv"
	fi
	[ -z "$$need" ] && exit 0
	if ! command -v apt-get >/dev/null 2>&1; then
	    echo "make: please install$$need (no apt-get here to do it)" >&2; exit 1
	fi
	if [ "$$(id -u)" -eq 0 ]; then sudo=""
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"
	else echo "make: installing$$need needs root: run as root or install them first" >&2; exit 1
	fi
	echo "Installing Debian packages:$$need"
	$$sudo apt-get update </dev/null
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$need </dev/null

$(VENV)/bin/python: | system-packages
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
	    echo "make: etiquette needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1)" >&2; exit 1; }
	echo "$(PYTHON) -m venv $(VENV)"
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf out
