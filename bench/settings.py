"""Production settings plus the benchmark's URL conf (bench/urls.py) and template.

gunicorn runs with DJANGO_SETTINGS_MODULE=bench.settings in bench/load.py; nothing else uses
it, and the production URLs never hold the baseline page.
"""

from pathlib import Path

from config.settings.production import *  # noqa: F403 - the production settings, unchanged
from config.settings.production import TEMPLATES

ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], Path(__file__).resolve().parent / "templates"]
