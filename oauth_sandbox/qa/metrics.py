"""Prometheus metrics (prometheus-client): requests by dialect, endpoint and status, their latency, tokens issued by
dialect and grant, rate-limit refusals and injected faults. Served at /metrics (qa/observe.py).

Several worker processes (gunicorn -w N) each count their own requests; prometheus-client's multiprocess mode sums
them: each worker writes its values to files in PROMETHEUS_MULTIPROC_DIR and /metrics reads them all. When that
variable is not set and the app runs under gunicorn with several workers, the first metric a worker records sets it
to a directory of this run, shared by its workers (`run_directory`). prometheus-client reads the variable when it is
imported, so it is imported here only then (on the first metric, in a request).
"""
import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path

from blinker import signal
from flask import g, has_request_context, request

from .. import process

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
RUN_PREFIX = "oauth-sandbox-metrics-"  # a run's directory: <prefix><master pid>[-<its start time>]
RUN_DIRECTORY = re.compile(re.escape(RUN_PREFIX) + r"([0-9]{1,7})(?:-([0-9]{1,20}))?")
TOKEN_SAVED = signal("oauth-sandbox.token-saved")  # sent by oauth.save_token, the one place tokens are written
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

_instruments = None


class Instruments:
    """This process's metrics (prometheus-client objects), made on first use."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Histogram, values  # noqa: PLC0415 - module doc
        if os.environ.get(MULTIPROC_ENV):
            # Its values ask the process id before every count they write (to notice a fork): asked of `process`,
            # not of the kernel (os.getpid, a system call: two or three of them in every request's metrics).
            values.ValueClass = values.MultiProcessValue(process_identifier=process.pid)
        self.registry = CollectorRegistry()
        self.requests = Counter("oauth_sandbox_requests", "Requests answered, by dialect, endpoint and status",
                                ["dialect", "endpoint", "status"], registry=self.registry)
        self.latency = Histogram("oauth_sandbox_request_duration_seconds", "Time to answer a request",
                                 ["dialect", "endpoint"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.tokens = Counter("oauth_sandbox_tokens_issued", "Access tokens issued, by dialect and grant",
                              ["dialect", "grant"], registry=self.registry)
        self.refusals = Counter("oauth_sandbox_rate_limit_refusals", "Requests refused by a rate limit (429)",
                                ["dialect", "endpoint"], registry=self.registry)
        self.faults = Counter("oauth_sandbox_faults_injected", "Injected faults that fired, by dialect, path and kind",
                              ["dialect", "path", "kind"], registry=self.registry)


def instruments():
    """This process's metrics; the first call picks the multiprocess directory (see the module doc)."""
    global _instruments
    if _instruments is None:
        if not os.environ.get(MULTIPROC_ENV) and under_gunicorn_workers():
            path = run_directory()
            if path is not None:
                os.environ[MULTIPROC_ENV] = str(path)
        _instruments = Instruments()
    return _instruments


def run_directory():
    """The multiprocess directory of this gunicorn run, in the temp dir: named after its master process (this worker's
    parent) and the time that process started, since a pid comes round again and prometheus-client sums whatever
    files it finds there (a directory named after the pid alone once gave a new run an old run's counts). The
    directories of runs that are over are removed first (prometheus-client wants them wiped between runs). None when
    the directory is not this user's own (someone else made one of its name first, or a link): each worker then
    counts alone rather than read or write another's files."""
    base = Path(tempfile.gettempdir())
    master = os.getppid()
    if master != 1:  # (a worker whose master is gone has init for a parent: it removes nothing)
        remove_finished_runs(base)
    started = process_start(master)
    path = base / (f"{RUN_PREFIX}{master}-{started}" if started else f"{RUN_PREFIX}{master}")
    try:
        path.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    return path if own_private_directory(path) else None


def remove_finished_runs(base):
    """Remove this user's directories of gunicorn runs that are over, in `base`."""
    try:
        found = list(base.glob(RUN_PREFIX + "*"))
    except OSError:
        return
    for path in found:
        match = RUN_DIRECTORY.fullmatch(path.name)
        if match and own_private_directory(path) and run_is_over(int(match[1]), match[2]):
            shutil.rmtree(path, ignore_errors=True)


def own_private_directory(path):
    """Whether `path` is a directory (not a link to one) of this user's that no one else may read or write."""
    try:
        found = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid() and not found.st_mode & 0o077


def process_start(pid):
    """When process `pid` started (clock ticks after boot, from /proc), or None: no such process, or no /proc."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[19]  # field 22, starttime
    except (OSError, IndexError):
        return None


def run_is_over(master, started):
    """Whether the gunicorn run whose master was process `master`, started at `started` (None: not known), is over:
    no such process, or another one since started under its pid."""
    now = process_start(master)
    if now is not None:
        return started is not None and now != started
    try:
        os.kill(master, 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process
        return False
    return False


def under_gunicorn_workers():
    """Whether this request is served by one of several gunicorn worker processes."""
    environ = request.environ if has_request_context() else {}
    return bool(environ.get("wsgi.multiprocess")) and str(environ.get("SERVER_SOFTWARE", "")).startswith("gunicorn")


def endpoint_label(current, request_globals):
    """The request's route (its rule, e.g. /v1/sessions/<int:session_id>/); a path the dialect serves without a route
    and counts against a rate limit (Fusio's declared operations) by its path; any other path `unrouted`. A
    bounded set either way. `current`, `request_globals`: the request and its `g`."""
    if current.url_rule is not None:
        return current.url_rule.rule
    return current.path if request_globals.get("rate_limit") is not None else "unrouted"


_children = {}  # (metric name, labels) -> the labelled child: prometheus-client's labels() costs more than inc()


def child(metric, *labels):
    """`metric.labels(*labels)`, made once per label set (the sets are bounded: routes, dialects, statuses)."""
    key = (metric._name, labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found


def record(response, owner):
    """Count a request and its latency (request envelope, after the view); `owner` is the path's dialect or None."""
    metrics = instruments()
    request_globals = g._get_current_object()
    endpoint = endpoint_label(request._get_current_object(), request_globals)
    dialect, status = owner[0] if owner else "page", response.status_code
    counted = _request_children.get((dialect, endpoint, status))
    if counted is None:
        counted = _request_children[dialect, endpoint, status] = (
            child(metrics.requests, dialect, endpoint, str(status)), child(metrics.latency, dialect, endpoint))
    counted[0].inc()
    counted[1].observe(time.perf_counter() - request_globals.get("started", time.perf_counter()))
    state = request_globals.get("rate_limit")
    if state is not None and state.exceeded and status == 429:
        child(metrics.refusals, dialect, endpoint).inc()


_request_children = {}  # (dialect, endpoint, status) -> (its requests counter, its latency histogram)


def fault_injected(dialect, fault):
    """Count a fault that fired (qa/faults.py)."""
    kind = ("drop" if fault["drop"] else fault["error"] or (str(fault["status"]) if fault["status"] else None)
            or ("stall" if fault["stall_ms"] else "latency"))
    child(instruments().faults, dialect, fault["path"], kind).inc()


@TOKEN_SAVED.connect
def token_issued(dialect, code=False, user=False, **_):
    """Count an issued token; its grant as the request names it, else as the token tells (code, user or neither)."""
    grant = None
    if has_request_context():
        current = request._get_current_object()
        # (request.values' answer, without merging the two, nor asking a MultiDict for a name it lacks: it raises
        # and catches an HTTP error each time)
        grant = current.args.get("grant_type") if "grant_type" in current.args else None
        if grant is None and current.method != "GET" and "grant_type" in current.form:
            grant = current.form.get("grant_type")
        if grant is None and current.is_json:
            data = current.get_json(silent=True)
            grant = data.get("grant_type") if isinstance(data, dict) else None
    if not isinstance(grant, str) or grant not in GRANTS:
        grant = "authorization_code" if code else "password" if user else "client_credentials"
    child(instruments().tokens, dialect, grant).inc()


GRANTS = ("authorization_code", "refresh_token", "client_credentials", "password")


def exposition():
    """(body, content type) of every metric: this process's, or every worker's in multiprocess mode."""
    metrics = instruments()  # first: it picks the multiprocess directory, which prometheus-client reads on import
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest  # noqa: PLC0415
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess  # noqa: PLC0415
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = metrics.registry
    return generate_latest(registry), CONTENT_TYPE_LATEST
