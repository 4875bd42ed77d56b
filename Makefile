# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format bench check-deploy clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# axe-core, injected by the browser tests to check accessibility (npm, from package-lock.json).
node_modules/axe-core/axe.min.js: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the accessibility checks in the browser tests will be skipped"; fi

install: $(STAMP) node_modules/axe-core/axe.min.js

## Run the site with demo data, a Celery worker and beat, on embedded defaults.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Latchkey is starting at http://127.0.0.1:8000 (staff admin at /admin/)."
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev

## Run the whole test suite. DATABASE_URL / REDIS_URL when set; else PostgreSQL and Redis on
## their standard local ports when they answer; else SQLite (services tests skipped).
TEST_DATABASE_URL := postgres://postgres@127.0.0.1:5432/latchkey
TEST_REDIS_URL := redis://127.0.0.1:6379/15
answers = $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', $(1)), 0.3)" 2>/dev/null
test: install
	@db="$${DATABASE_URL:-}"; redis="$${REDIS_URL:-}"; \
	if [ -z "$$db" ] && $(call answers,5432); then db=$(TEST_DATABASE_URL); fi; \
	if [ -z "$$redis" ] && $(call answers,6379); then redis=$(TEST_REDIS_URL); fi; \
	echo "make test: database $${db:-SQLite in memory}; Redis $${redis:-none (services tests skipped)}"; \
	env $${db:+DATABASE_URL=$$db} $${redis:+REDIS_URL=$$redis} $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Production settings must pass Django's deployment checks with no warning.
check-deploy: install
	DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
	ALLOWED_HOSTS=latchkey.example.com DATABASE_URL=$${DATABASE_URL:-postgres://127.0.0.1/latchkey} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} EMAIL_URL=$${EMAIL_URL:-smtp://127.0.0.1:25} \
	FIELD_ENCRYPTION_KEYS=$$($(BIN)/python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
