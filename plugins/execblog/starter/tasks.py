"""This blog's tasks (`invoke --list`): Execblog's, working on this folder.

build, rebuild, clean, prune, serve, livereload, new "Title", publish. A task of your own:
define it with invoke's @task below, then `ns.add_task(it)`.
"""

from pathlib import Path

from execblog.sitetasks.tasks import site_tasks

ns = site_tasks(Path(__file__).resolve().parent)
