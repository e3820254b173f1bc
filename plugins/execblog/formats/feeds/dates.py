"""Honest ``modified`` dates: never the source file's modification time.

With ``DEFAULT_DATE = "fs"`` Pelican gives every article ``modified`` = the file's mtime
(and ``date`` too when the post has no ``Date:``). A fresh clone, a checkout or a copy sets
every mtime to "now", so every feed entry would claim it was updated today. Pelican's feed
writer takes an entry's ``updated`` from ``item.modified`` (and the feed's from the latest
entry), so each article's ``modified`` is set, once it has been read, to:

1. its ``Modified:`` metadata, when the post has one;
2. else its ``Date:``;
3. else the last git commit date of the source file (``git log -1 --format=%cI``), when git
   and a repository are there;
4. else it is left as it is (the post's date is the mtime too, so ``updated`` equals
   ``published``: nothing claims a later update).

A value "is the mtime" when ``DEFAULT_DATE`` is ``"fs"`` and it equals, to the
microsecond, the timestamp Pelican derives from the file, which is how Pelican set it.
The theme shows no ``modified``; anything that reads it later (feeds, a sitemap, share
metadata) gets the honest value, and ``locale_modified`` follows.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from collections.abc import Iterable, Iterator
from typing import Any

from pelican.utils import SafeDatetime, set_date_tzinfo

_ARTICLE_LISTS = (
    "articles", "translations", "hidden_articles", "hidden_translations",
    "drafts", "drafts_translations",
)
GIT_TIMEOUT_S = 10


def parse_git_date(text: str) -> datetime.datetime | None:
    """The first line of ``git log --format=%cI`` output as an aware datetime, or None."""
    lines = text.strip().splitlines()
    if not lines:
        return None
    try:
        value = datetime.datetime.fromisoformat(lines[0].strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else None


def last_commit_date(path: str) -> datetime.datetime | None:
    """Committer date of the last commit touching path; None without git, outside a
    repository, for an untracked file, or on any error."""
    folder, name = os.path.split(os.path.abspath(path))
    try:
        proc = subprocess.run(
            ["git", "log", "-1", "--format=%cI", "--", name], cwd=folder,
            capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"},
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return parse_git_date(proc.stdout) if proc.returncode == 0 else None


def _mtime_stamp(path: str) -> datetime.datetime | None:
    """What Pelican's path_metadata makes of the file's mtime (naive local time)."""
    try:
        return datetime.datetime.fromtimestamp(os.stat(path).st_mtime)
    except (OSError, ValueError, OverflowError):
        return None


def _is_stamp(value: Any, stamp: datetime.datetime | None) -> bool:
    return (stamp is not None and isinstance(value, datetime.datetime)
            and value.replace(tzinfo=None) == stamp)


def _safe(value: datetime.datetime) -> SafeDatetime:
    return SafeDatetime(value.year, value.month, value.day, value.hour, value.minute,
                        value.second, value.microsecond, value.tzinfo)


class HonestDates:
    """Fix ``modified`` of content objects; git look-ups are memoised per source path."""

    def __init__(self, settings: dict[str, Any], git=last_commit_date) -> None:
        self.from_fs = settings.get("DEFAULT_DATE") == "fs"
        self.timezone = settings.get("TIMEZONE")
        self._git = git
        self._git_dates: dict[str, datetime.datetime | None] = {}

    def git_date(self, path: str) -> datetime.datetime | None:
        if path not in self._git_dates:
            self._git_dates[path] = self._git(path)
        return self._git_dates[path]

    def honest_modified(self, obj: Any) -> datetime.datetime | None:
        """The value ``modified`` should have, or None to leave the object alone."""
        modified = getattr(obj, "modified", None)
        source = getattr(obj, "source_path", None)
        if not self.from_fs or modified is None or not source:
            return None
        stamp = _mtime_stamp(source)
        if not _is_stamp(modified, stamp):
            return None  # the post's own Modified: (or a plugin's): keep it
        date = getattr(obj, "date", None)
        if isinstance(date, datetime.datetime) and not _is_stamp(date, stamp):
            return date
        return self.git_date(source)

    def fix(self, obj: Any) -> None:
        value = self.honest_modified(obj)
        if value is None:
            return
        value = _safe(set_date_tzinfo(value, self.timezone))
        obj.modified = value
        date_format = getattr(obj, "date_format", None)
        if date_format:
            obj.locale_modified = value.strftime(date_format)
        metadata = getattr(obj, "metadata", None)
        if isinstance(metadata, dict) and "modified" in metadata:
            metadata["modified"] = value


def generator_articles(generator: Any) -> Iterator[Any]:
    seen: set[int] = set()
    for name in _ARTICLE_LISTS:
        items: Iterable[Any] = getattr(generator, name, None) or ()
        for obj in items:
            if id(obj) not in seen:
                seen.add(id(obj))
                yield obj


def fix_article_dates(generator: Any) -> None:
    """article_generator_finalized receiver (feeds are written after it)."""
    dates = HonestDates(generator.settings)
    for article in generator_articles(generator):
        dates.fix(article)
