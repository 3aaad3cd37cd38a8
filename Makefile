.PHONY: setup run test lint format bench

setup:
	bash scripts/setup

run:
	bash scripts/run

test:
	bash scripts/test

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy enforcement connectors auction blacklist

format:
	.venv/bin/ruff format enforcement connectors auction blacklist tests bench
	.venv/bin/ruff check --fix .

bench:
	.venv/bin/python bench/sweep.py
	.venv/bin/python bench/bids.py
	.venv/bin/python bench/feed.py
