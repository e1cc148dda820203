"""gunicorn's settings for the console: ``.venv/bin/gunicorn -c gunicorn.conf.py dashboard.wsgi``.

The worker timeout comes from dashboard/limits.py, the same place as the console's own time limits, so
a write request is never killed half-way (see README "Background worker and time limits"). Override with the variables below
or gunicorn's own command-line options.
"""

import os

from dashboard import limits

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = int(limits.WEB_TIMEOUT)
# A restart (HUP, a deploy) gives a request in flight as long as the timeout does: a write request killed
# half-way is not lost (its lease runs out and the worker takes it over), but its answer is an error, and a new
# SSH password it had not sent yet is never sent. The longest one is dashboard/limits.worst_write_request().
graceful_timeout = timeout
accesslog = "-"
# Query strings are logged by default; ours never hold secrets, but request bodies (passwords) are never logged.
