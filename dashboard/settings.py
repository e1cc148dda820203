"""Settings, read from the environment (README "Configuration"). Secure unless told otherwise:
DEBUG is off, a secret key is required outside DEBUG, and nothing is served publicly by accident."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from dashboard import limits

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG")


def _demo_secret_key() -> str:
    """The local demo's key (DEBUG only), kept beside its database in the git-ignored var/, readable by
    its owner alone, so sessions stay valid across runs and commands."""
    path = BASE_DIR / "var" / "demo-secret-key"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for a local demo).")
    SECRET_KEY = _demo_secret_key()

# Old keys after a rotation: sessions signed with them stay valid (and audit migration 0004 can check the
# checkpoints they signed before the audit key existed).
SECRET_KEY_FALLBACKS = [k for k in os.environ.get("DJANGO_SECRET_KEY_FALLBACKS", "").split(",") if k]


def _demo_audit_key() -> str:
    """The local demo's audit key (DEBUG only), beside the demo secret key in var/ and just as private."""
    path = BASE_DIR / "var" / "demo-audit-key"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _audit_signing_keys() -> list[str]:
    """The audit chain's keys, newest first (dashboard/audit/keys.py). AUDIT_SIGNING_KEY_FILE holds one key per
    line, the current one first, older ones after it; AUDIT_SIGNING_KEY holds the current key and
    AUDIT_SIGNING_KEY_FALLBACKS (comma-separated) the older ones. Never SECRET_KEY: whoever has that (every
    console process, for sessions) could otherwise forge the trail's seals."""
    path, value = os.environ.get("AUDIT_SIGNING_KEY_FILE"), os.environ.get("AUDIT_SIGNING_KEY")
    if path and value:
        raise ImproperlyConfigured("Set AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE, not both.")
    if path:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError as exc:
            raise ImproperlyConfigured(f"AUDIT_SIGNING_KEY_FILE cannot be read: {exc.strerror}") from None
        keys = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    else:
        keys = [value or ""] + [k for k in os.environ.get("AUDIT_SIGNING_KEY_FALLBACKS", "").split(",") if k]
    if not keys or not keys[0]:
        if not DEBUG:
            raise ImproperlyConfigured(
                "Set AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE (or DJANGO_DEBUG=1 for a local demo)."
            )
        keys = [_demo_audit_key(), *keys[1:]]
    if any(len(k) < 32 for k in keys):
        raise ImproperlyConfigured("Audit signing keys must be at least 32 characters long.")
    if {SECRET_KEY, *SECRET_KEY_FALLBACKS} & set(keys):
        raise ImproperlyConfigured("The audit signing key must not be DJANGO_SECRET_KEY (nor one of its fallbacks).")
    return keys


AUDIT_SIGNING_KEY, *AUDIT_SIGNING_KEY_FALLBACKS = _audit_signing_keys()
# Auditors need the connection values to audit changes (dashboard/accounts/roles.py); an operator who prefers
# them hidden masks them in the audit log, the storages' history and the exports, for every role.
AUDIT_MASK_CONNECTION_VALUES = env_bool("AUDIT_MASK_CONNECTION_VALUES")
# Refused writes (dashboard/audit/refusals.py): rows and upstream look-ups allowed per user and minute.
AUDIT_REFUSALS_PER_MINUTE = int(os.environ.get("AUDIT_REFUSALS_PER_MINUTE", "20"))

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks_db",
    "axes",
    "dashboard.accounts",
    "dashboard.storages",
    "dashboard.audit",
    "dashboard.capacity",  # issue 12: capacity history, forecasts, /capacity/
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # CSP and frame protection wrap everything after them, so the error responses those middleware
    # produce (400 for a bad Host from CommonMiddleware, 403 CSRF) carry the headers too.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: ends sessions past their idle or absolute limit, then marks what is left private.
    "dashboard.accounts.middleware.SessionLimitsMiddleware",
    "dashboard.accounts.middleware.PrivateResponsesMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "dashboard.storages.timezones.BrowserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dashboard.errors.ErrorPagesMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during authentication into our lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.accounts.context_processors.permissions",
            ],
            # The one way moments are written ({{ value|when }}, {% moment value %}): dashboard/formats/moments.py.
            "builtins": ["dashboard.formats.moments"],
        },
    }
]

# SQLite by default; DATABASE_URL selects PostgreSQL (psycopg 3) when deployed at scale.
if not os.environ.get("DATABASE_URL"):
    # The default SQLite file lives in var/ (git-ignored): made here, so manage.py works in a fresh clone.
    (BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers append audit events at once: wait for SQLite's write lock, don't fail.
    # WAL: readers (a long streamed audit export) don't block writers, nor writers readers; without it the
    # export's read lock makes every write's audit insert time out. NORMAL is durable in WAL mode except for
    # the last commits on power loss.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# REDIS_URL gives every process one shared cache; without it each process keeps its own.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "isc",
        }
    }
    # Sessions are read on every request: serve them from Redis, with the database behind it.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Django's database sessions, with the read every request makes written out (dashboard/accounts/sessions.py).
    SESSION_ENGINE = "dashboard.accounts.sessions"

# Argon2id first: new passwords use it and existing PBKDF2 hashes are re-hashed at their next login
# (dashboard/accounts/hashers.py says why, scripts/hash_cost.py measures it).
PASSWORD_HASHERS = [
    "dashboard.accounts.hashers.ConsoleArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# django-axes first: it refuses a locked-out user name + address pair before any password is hashed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, with the roles and permissions of a request read in one query (dashboard/accounts/backends.py).
    "dashboard.accounts.backends.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "storages:list"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection (django-axes): a user name is locked for one client address after N failures,
# so a guesser behind a shared NAT or proxy does not lock out colleagues behind the same address, and
# a password spray from one address meets a lock on every name it tries N times. Unlock early with
# `manage.py axes_reset_username NAME` (README "Production").
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("DJANGO_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a successful login clears the count: the odd typo never adds up to a lock
# The address is the one the audit trail records (dashboard/accounts/actor.py): X-Forwarded-For only
# as far as DJANGO_TRUSTED_PROXIES allows, never a header a client can forge.
AXES_CLIENT_IP_CALLABLE = "dashboard.accounts.actor.client_ip"
AXES_LOCKOUT_CALLABLE = "dashboard.accounts.views.locked_out"
AXES_VERBOSE = False  # no version banner in every process's log
# How many password checks one process runs at once; more wait for none and get a "busy" page, so a
# login flood cannot take every worker thread from the pages (dashboard/accounts/views.py).
LOGIN_CONCURRENCY = int(os.environ.get("DJANGO_LOGIN_CONCURRENCY", "2"))

# Sessions end after DJANGO_SESSION_IDLE_MINUTES without a request the user made, and in any case
# DJANGO_SESSION_MAX_HOURS after login (dashboard/accounts/middleware.py enforces both).
SESSION_IDLE_TIMEOUT = timedelta(minutes=float(os.environ.get("DJANGO_SESSION_IDLE_MINUTES", "30")))
SESSION_MAX_LIFETIME = timedelta(hours=float(os.environ.get("DJANGO_SESSION_MAX_HOURS", "12")))
SESSION_COOKIE_AGE = int(SESSION_MAX_LIFETIME.total_seconds())  # the cookie and stored session never outlive it

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["dashboard.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Strict CSP: only our own scripts and styles, no inline code, no eval (htmx is configured without it).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # scripts never read it: htmx takes the token from the page's <meta>
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "dashboard.errors.csrf_failure"
if env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Behind a TLS-terminating reverse proxy: the origins browsers post from ("https://console.example"),
# and how many proxies in front of us append to X-Forwarded-For. With DJANGO_TRUSTED_PROXIES=N the
# proxy's X-Forwarded-Proto is believed and the audit trail records the client address the Nth proxy
# from us saw, instead of the proxy's own; without it, forwarded headers are ignored (clients can forge them).
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
TRUSTED_PROXIES = int(os.environ.get("DJANGO_TRUSTED_PROXIES", "0"))
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind TLS only (README "Production"): HSTS tells browsers to use https for this host from now on,
# and the redirect sends plain-http requests there. /healthz stays plain so a local probe needs no TLS.
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS") or 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- ZStack -------------------------------------------------------------------------------------
ZSTACK_URL = os.environ.get("ZSTACK_URL", "http://127.0.0.1:8080").rstrip("/")
ZSTACK_ACCOUNT = os.environ.get("ZSTACK_ACCOUNT", "admin")
# No default outside DEBUG (then "password", the bundled simulator's demo account). Commands that
# never call ZStack (migrate, adduser, verify_audit) run without it; pages say it is missing.
ZSTACK_PASSWORD = os.environ.get("ZSTACK_PASSWORD") or ("password" if DEBUG else "")
# ZStack sends dates without a zone, in the management node's local time (docs/zstack-protocol.md §8).
ZSTACK_TIME_ZONE = os.environ.get("ZSTACK_TIME_ZONE", "Asia/Shanghai")
# Time limits, chosen together in dashboard/limits.py (gunicorn.conf.py reads the same): seconds per HTTP
# call, a write request's wait for its jobs, and the worker's deadline for one write's jobs.
ZSTACK_TIMEOUT = limits.ZSTACK_TIMEOUT
CONSOLE_WRITE_WAIT = limits.WRITE_WAIT
ZSTACK_JOB_DEADLINE = limits.JOB_DEADLINE
# Seconds before a follower's first look at a job it sent; it backs off to 1 s (dashboard/storages/follow.py).
# Not an operator setting: most ZStack jobs end within a few hundred ms. The tests' simulator ends them at once.
ZSTACK_POLL_INTERVAL = 0.05
# One ZStack login for every process of every instance: the session lives in the shared cache (Redis). With a
# per-process cache there is nothing to share, and each process keeps its own session as before.
ZSTACK_SHARE_SESSION = bool(os.environ.get("REDIS_URL"))
# Threads per process for a page's independent ZStack reads (its slowest read, not their sum).
ZSTACK_READ_CONCURRENCY = int(os.environ.get("ZSTACK_READ_CONCURRENCY", "8"))

# Background work: Django's Tasks framework with the database backend (django-tasks-db). The submission
# rows the tasks follow live in the same database, so no other service is needed, and any number of
# workers (manage.py run_worker) share the queue, on one host or several.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- Capacity (issue 12; dashboard/capacity/, README "Capacity") ---------------------------------------
# Global thresholds for the badges and the overview's counts, in percent used.
CAPACITY_WARNING_PERCENT = float(os.environ.get("CAPACITY_WARNING_PERCENT", "80"))
CAPACITY_CRITICAL_PERCENT = float(os.environ.get("CAPACITY_CRITICAL_PERCENT", "90"))
# How often the background worker records a snapshot (manage.py snapshot_capacity does it on demand).
CAPACITY_SNAPSHOT_MINUTES = float(os.environ.get("CAPACITY_SNAPSHOT_MINUTES", "5"))

# Error reports hide sensitive_post_parameters / sensitive_variables even with DEBUG on (make run):
# Django's own filter stands aside under DEBUG, and the debug page would show the SSH password.
DEFAULT_EXCEPTION_REPORTER_FILTER = "dashboard.storages.debug.SecretsHiddenExceptionReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # axes logs every login at INFO; the audit trail records them, so only its warnings reach the log.
    "loggers": {"django.request": {"level": "ERROR"}, "axes": {"level": "WARNING"}},
}
