"""`invoke new`: a dated draft post with front matter, tags and an example exec fence."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from invoke.exceptions import Exit

DEFAULT_TAGS = "notes"  # a placeholder: the author replaces it

POST_TEMPLATE = """\
Title: {title}
Date: {date}
Tags: {tags}
Status: draft
Summary: One sentence about this post, shown on the home page and in feeds.

## Introduction

Write the prose here. Inline math $e^{{i\\pi}} + 1 = 0$ works, and `exec` fences run at
build time:

```python exec
a = xp.arange(10)
print(a.sum())
```
"""


def tag_list(tags: str) -> str:
    """``"gpu,  numerics,"`` -> ``"gpu, numerics"``: Pelican's comma-separated Tags line."""
    names = [name.strip() for name in tags.split(",")]
    names = [name for name in names if name]
    if not names:
        raise Exit("--tags is empty: give one tag or several, separated by commas", code=2)
    return ", ".join(names)


def write_draft(content: Path, title: str, tags: str = DEFAULT_TAGS,
                timezone: str = "UTC") -> Path:
    """Create content/posts/YYYY-MM-DD-slug.md (dated now in ``timezone``) as a draft; never
    overwrite a file. Returns its path."""
    from pelican.settings import DEFAULT_CONFIG
    from pelican.utils import slugify

    if not title.strip():
        raise Exit("the title is empty", code=2)
    now = datetime.now(ZoneInfo(timezone or "UTC"))
    slug = slugify(title, regex_subs=DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"])
    path = content / "posts" / f"{now:%Y-%m-%d}-{slug}.md"
    text = POST_TEMPLATE.format(title=title.strip(), date=f"{now:%Y-%m-%d %H:%M}",
                                tags=tag_list(tags))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise Exit(f"{path} already exists; not overwriting it", code=1) from None
    return path
