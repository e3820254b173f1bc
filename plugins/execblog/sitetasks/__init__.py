"""Site tasks logic behind ``tasks.py`` (invoke): not a Pelican plugin, nothing here is loaded
by a build.

``pelican_cli`` builds and runs the Pelican command line (also used by the tests and the
bench), ``publishing`` stages, verifies, swaps and deploys a build, ``perf`` is the
``invoke bench`` harness. Failures raise :class:`invoke.exceptions.Exit` with the message and
exit status the task reports.
"""
