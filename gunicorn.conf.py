"""gunicorn's settings for the console: ``.venv/bin/gunicorn -c gunicorn.conf.py dashboard.wsgi``.

The worker timeout comes from dashboard/limits.py, the same place as the console's own time limits, so
a write request is never killed half-way (see README "Time limits"). Override with the variables below
or gunicorn's own command-line options.
"""

import os

from dashboard import limits

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = int(limits.WEB_TIMEOUT)
graceful_timeout = int(limits.WRITE_WAIT) + 10  # a restart lets a waiting write request finish
accesslog = "-"
# Query strings are logged by default; ours never hold secrets, but request bodies (passwords) are never logged.
