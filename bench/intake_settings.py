"""Settings of the server that bench/intake.py starts: the application's own settings (the
bench sets the production environment variables), with the bench's urlconf, which adds the
baseline view beside the application's URLs, and one bench middleware in front."""

import os

from entraide.settings import *  # noqa: F403
from entraide.settings import DATABASES, MIDDLEWARE

ROOT_URLCONF = "intake_urls"
MIDDLEWARE = ["intake_urls.echo_bench_seq", *MIDDLEWARE]

# Only when asked (--conn-max-age), to measure what persistent connections would change; by
# default the server keeps the application's setting.
if "BENCH_CONN_MAX_AGE" in os.environ:
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])
