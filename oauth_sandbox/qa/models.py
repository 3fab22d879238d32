"""QA controls' state, shared by every worker through the database: faults and the request journal."""
from typing import Optional

from sqlalchemy import JSON, Boolean, Float, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Fault(db.Model):
    """An injected fault: the next `remaining` (or a share `rate`) of requests to a path answer an error."""

    __tablename__ = "sandbox_faults"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(255), index=True)
    method: Mapped[Optional[str]] = mapped_column(String(8))
    error: Mapped[Optional[str]] = mapped_column(String(64))  # a documented error of the dialect
    status: Mapped[Optional[int]]  # or a bare status: 429, 500, 503
    remaining: Mapped[Optional[int]]  # None: every request (with `rate`)
    rate: Mapped[Optional[float]] = mapped_column(Float)
    latency_ms: Mapped[int] = mapped_column(default=0)
    retry_after: Mapped[int] = mapped_column(default=30)
    stall_ms: Mapped[int] = mapped_column(default=0, server_default="0")  # nothing sent for longer than a client waits
    drop: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())  # close, no response

    def to_json(self):
        return {"id": self.id, "path": self.path, "method": self.method, "error": self.error, "status": self.status,
                "remaining": self.remaining, "rate": self.rate, "latency_ms": self.latency_ms,
                "stall_ms": self.stall_ms or 0, "drop": bool(self.drop), "retry_after": self.retry_after}


class JournalEntry(db.Model):
    """One recorded request to a dialect endpoint, secrets redacted."""

    __tablename__ = "sandbox_journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index but the id's: at most JOURNAL_MAX_ENTRIES rows, read newest first by id (filters scan them in
    # milliseconds), and each index was written and trimmed with every entry.
    at: Mapped[float] = mapped_column(Float)
    dialect: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(2048))
    query: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[int]
    client_id: Mapped[Optional[str]] = mapped_column(String(128))
    username: Mapped[Optional[str]] = mapped_column(String(64))
    latency_ms: Mapped[float] = mapped_column(Float)
    request_body: Mapped[str] = mapped_column(Text, default="")
    response_body: Mapped[str] = mapped_column(Text, default="")
    request_headers: Mapped[Optional[dict]] = mapped_column(JSON)  # credentials redacted
    response_headers: Mapped[Optional[dict]] = mapped_column(JSON)

    def to_json(self):
        return {"id": self.id, "time": self.at, "dialect": self.dialect, "method": self.method, "path": self.path,
                "query": self.query, "status": self.status, "client_id": self.client_id, "user": self.username,
                "latency_ms": round(self.latency_ms, 2), "request_body": self.request_body,
                "response_body": self.response_body, "request_headers": self.request_headers or {},
                "response_headers": self.response_headers or {}}
