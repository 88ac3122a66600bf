# The two commands: `make run` and `make test`. Everything else builds on them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
export FLASK_APP := wsgi.py
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test e2e sysdeps venv migrate seed serve bench lint clean

run: venv                    ## venv, install, migrate, demo data if empty, serve on :5000
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	@echo
	@echo "  Mở http://$(HOST):$(PORT)  —  Ctrl+C để dừng."
	@$(BIN)/flask demo-logins
	@echo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: venv                   ## the whole suite on SQLite (PostgreSQL too when TEST_DATABASE_URL is set)
	$(BIN)/python -m pytest -m "not e2e" $(PYTEST_ARGS)

e2e: venv                    ## browser journeys: Playwright + Debian's Chromium (installed here when root)
	@command -v chromium >/dev/null 2>&1 || bash .ci/system-deps chromium
	$(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

sysdeps:                     ## system libraries for WeasyPrint and the certificate font
	@bash .ci/system-deps

venv: $(STAMP)

$(STAMP): requirements.txt
	@bash .ci/system-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

migrate: venv
	$(BIN)/flask db upgrade

serve: venv                  ## production server (gunicorn); needs SECRET_KEY and DATABASE_URL
	BDG_CONFIG=production $(BIN)/gunicorn --bind $(HOST):$${PORT:-8000} \
	  --workers $${WEB_CONCURRENCY:-2} --threads $${WEB_THREADS:-2} wsgi:app

bench: venv                  ## certificate PDF benchmark: 100 and 500 certificates, naive vs product pipeline
	$(BIN)/python bench/bench_certificates.py
	$(BIN)/python bench/bench_reports.py
	@command -v wrk >/dev/null 2>&1 || bash .ci/system-deps wrk || echo "(wrk không có: bench_http dùng bộ tạo tải Python)"
	$(BIN)/python bench/bench_http.py

lint: venv
	$(BIN)/python -m pip install --quiet ruff==0.14.0 && $(BIN)/ruff check bdg_training tests config.py wsgi.py

clean:
	rm -rf $(VENV) .pytest_cache
