"""This process's id, known without asking the kernel: `os.getpid()` is a system call each time (glibc keeps no
copy), and the request path asked it several times a request (the thread's read connection, the writer lock, and
prometheus-client before each count it writes in multiprocess mode). Kept up to date in a forked child (a gunicorn
worker) by a fork hook, which Python runs in the child of every `os.fork()` (not of a fork made in C without
Python's hooks: uWSGI needs `py-call-osafterfork`, which is not a server the sandbox documents)."""
import os

_pid = os.getpid()


def _forked():
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def pid():
    """This process's id (`os.getpid()`, without the system call)."""
    return _pid
