"""Configuration, read from the environment."""
import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _database_url(default_name: str) -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / default_name}"
    # Heroku-style URLs name the dialect "postgres"; SQLAlchemy wants the driver spelled out.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _secret_key() -> str | None:
    """SECRET_KEY from the environment, else the one `make run` keeps in instance/secret_key,
    so `flask …` commands work beside `make run` without exporting anything."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    kept = INSTANCE_DIR / "secret_key"
    return kept.read_text().strip() or None if kept.is_file() else None


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = _database_url("rapport.sqlite3")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False
    # A page left open all day must still be able to post.
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    # A session ends after this long unused, and in any case this long after sign-in.
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "120"))
    SESSION_LIFETIME_HOURS = int(os.environ.get("SESSION_LIFETIME_HOURS", "12"))
    # "Keep me signed in": a session that lasts this many days (30 at most; 0 hides the box).
    REMEMBER_DAYS = min(30, int(os.environ.get("REMEMBER_DAYS", "14")))
    REMEMBER_COOKIE_DURATION = timedelta(days=REMEMBER_DAYS)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # One-time password reset links an admin makes: valid this many hours; emailed when an
    # SMTP server is configured, shown to the admin to copy in any case.
    PASSWORD_RESET_HOURS = int(os.environ.get("PASSWORD_RESET_HOURS", "24"))
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_FROM = os.environ.get("SMTP_FROM", "rapport@localhost")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "1") == "1"
    TOTP_ISSUER = os.environ.get("TOTP_ISSUER", "Rapport")  # the name shown in code apps
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL", "memory://")
    RATELIMIT_ENABLED = True
    # Failed sign-ins allowed per address, and per account (beyond: refused, and said so).
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    LOGIN_ACCOUNT_LIMIT = os.environ.get("LOGIN_ACCOUNT_LIMIT", "5 per 15 minutes;20 per day")
    # How many proxies (load balancers) stand in front of the app and set X-Forwarded-For and
    # X-Forwarded-Proto; 0 (the default) trusts no such header.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "512")) * 1024 * 1024
    # The REST API (/api/v1): the largest JSON body, and the requests one token may make
    # (counted where Flask-Limiter counts, Redis in production).
    API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_KB", "1024")) * 1024
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute;3000 per hour")
    OPENAPI_VERSION = "3.1.0"
    IMPORT_MAX_UNCOMPRESSED_MB = int(os.environ.get("IMPORT_MAX_UNCOMPRESSED_MB", "4096"))
    IMPORT_MAX_RATIO = int(os.environ.get("IMPORT_MAX_RATIO", "200"))
    PAGE_SIZE = 50
    REQUIRE_SECRET_KEY = True
    # Live channels: the key that encrypts their secrets, Meta's Graph API (or a proxy in
    # front of it), and the largest webhook body accepted.
    CHANNELS_ENCRYPTION_KEY = os.environ.get("CHANNELS_ENCRYPTION_KEY")
    META_GRAPH_URL = os.environ.get("META_GRAPH_URL", "https://graph.facebook.com/v23.0")
    # On SQLite, acknowledged webhook events wait in a file of their own (crm.channels.spool).
    CHANNEL_SPOOL = os.environ.get("CHANNEL_SPOOL", "on") != "off"
    META_WEBHOOK_MAX_BYTES = int(os.environ.get("META_WEBHOOK_MAX_BYTES", str(512 * 1024)))
    # WhatsApp media files fetched by the worker: kept here (served only through the
    # policy), up to this size each.
    MEDIA_FOLDER = os.environ.get("MEDIA_FOLDER") or str(INSTANCE_DIR / "media")
    WHATSAPP_MEDIA_MAX_MB = float(os.environ.get("WHATSAPP_MEDIA_MAX_MB", "25"))
    # Privacy: the key of the erased people's hashes (else SECRET_KEY), and how long a data
    # export's download link works.
    PRIVACY_HASH_KEY = os.environ.get("PRIVACY_HASH_KEY") or None
    PRIVACY_EXPORT_HOURS = float(os.environ.get("PRIVACY_EXPORT_HOURS", "24"))
    # Where the callback URLs shown to the admin point (the public address of this install).
    PUBLIC_URL = os.environ.get("PUBLIC_URL")
    # Outbound webhooks (crm.webhooks): a receiver's time to answer, retries (doubling from
    # the first wait, for this many hours), failed attempts in a row that turn an endpoint
    # off, and how long finished deliveries stay in the log.
    WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
    WEBHOOK_RETRY_FIRST_SECONDS = float(os.environ.get("WEBHOOK_RETRY_FIRST_SECONDS", "60"))
    WEBHOOK_RETRY_HOURS = float(os.environ.get("WEBHOOK_RETRY_HOURS", "24"))
    WEBHOOK_DISABLE_AFTER = int(os.environ.get("WEBHOOK_DISABLE_AFTER", "50"))
    WEBHOOK_KEEP_DAYS = float(os.environ.get("WEBHOOK_KEEP_DAYS", "30"))
    # Background jobs (crm.jobs): "sqlite" (a file in instance/, for `make run`), "redis"
    # (REDIS_URL; production, workers on any number of machines) or "immediate" (tests).
    REDIS_URL = os.environ.get("REDIS_URL")
    JOBS_BACKEND = os.environ.get("JOBS_BACKEND") or ("redis" if REDIS_URL else "sqlite")
    # Remembered dashboard figures and badges, and the tables' generations that open pages
    # poll (crm.core.cache, Flask-Caching): shared by every process — the web's and the job
    # workers' — through Redis when REDIS_URL is set, else through diskcache's SQLite file in
    # CACHE_DIR (default instance/cache: the processes of one machine, as `make run` starts
    # them).
    CACHE_TYPE = "RedisCache" if REDIS_URL else "crm.core.disk_cache.DiskCache"
    CACHE_REDIS_URL = REDIS_URL
    CACHE_DIR = os.environ.get("CACHE_DIR")
    CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "rapport:")
    CACHE_DEFAULT_TIMEOUT = 3600
    CACHE_THRESHOLD = 5000   # SimpleCache's entries
    JOBS_QUEUE_NAME = os.environ.get("JOBS_QUEUE_NAME", "rapport")
    JOBS_SQLITE_PATH = os.environ.get("JOBS_SQLITE_PATH")      # default instance/jobs.sqlite3
    JOBS_LEASE_SECONDS = float(os.environ.get("JOBS_LEASE_SECONDS", "20"))
    JOBS_SWEEP_SECONDS = int(os.environ.get("JOBS_SWEEP_SECONDS", "20"))
    JOBS_MAX_ATTEMPTS = int(os.environ.get("JOBS_MAX_ATTEMPTS", "2"))
    JOBS_KEEP_DAYS = int(os.environ.get("JOBS_KEEP_DAYS", "14"))
    # A job still queued after this long is sent again (its message may have been lost).
    JOBS_RESEND_MINUTES = float(os.environ.get("JOBS_RESEND_MINUTES", "15"))
    JOBS_LOCK_DIR = os.environ.get("JOBS_LOCK_DIR")            # default instance/locks
    IMPORTS_RUNNING_PER_USER = int(os.environ.get("IMPORTS_RUNNING_PER_USER", "2"))
    IMPORTS_RUNNING_IN_ALL = int(os.environ.get("IMPORTS_RUNNING_IN_ALL", "6"))
    IMPORT_MEMORY_MB = int(os.environ.get("IMPORT_MEMORY_MB", "3072"))
    # SQLite's page cache while an import writes (its largest share of the job's memory: an
    # import stays under 400 MB whatever the export's size).
    IMPORT_SQLITE_CACHE_MB = int(os.environ.get("IMPORT_SQLITE_CACHE_MB", "128"))
    # Uploads left waiting for review, and failed imports' uploads, are deleted after this.
    IMPORT_ABANDONED_HOURS = float(os.environ.get("IMPORT_ABANDONED_HOURS", "168"))


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-only-secret"
    REQUIRE_SECRET_KEY = False
    SQLALCHEMY_DATABASE_URI = _database_url("unused")  # replaced by the test fixtures
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    SERVER_NAME = None
    CHANNELS_ENCRYPTION_KEY = "xmW_hXZ7j5Cf9pyJTf1zY0U3Yrh1lh4yb-pKwVbEXsI="
    META_GRAPH_URL = "http://graph.invalid"
    JOBS_BACKEND = "immediate"
    CACHE_TYPE = "SimpleCache"
