"""The few exceptions the analyzer raises; each bad item becomes a finding, not a crash."""

from __future__ import annotations


class AnalyzerError(Exception):
    """Base of every error the analyzer raises on purpose."""


class SnapshotError(AnalyzerError):
    """The snapshot as a whole cannot be opened or read."""


class SnapshotPathError(AnalyzerError):
    """One path in the snapshot cannot be read as asked (wrong kind, unreadable)."""

    def __init__(self, path: bytes, reason: str) -> None:
        super().__init__(f"{path.decode('utf-8', 'backslashreplace')}: {reason}")
        self.path = path
        self.reason = reason


class NotASymlink(SnapshotPathError):
    """``readlink`` was asked about something that is not a symlink."""


class FileTooLarge(SnapshotPathError):
    """A file is larger than the cap the caller set for reading it."""


class NotCaptured(SnapshotPathError):
    """The snapshot recorded the path but not its contents (a metadata-only capture)."""


class EscapeAttempt(SnapshotPathError):
    """A path would leave its root; raised only where the caller asked to be told."""


class ParserLimit(AnalyzerError):
    """Input the engine would read lies past what this tool can parse (deep JSON)."""


class LocateError(AnalyzerError):
    """No Docker data root could be found under the given root."""


class OutputError(AnalyzerError):
    """The output folder cannot be used (inside the evidence, or already present)."""
