"""Site tasks logic behind ``tasks.py`` (invoke): not a Pelican plugin, nothing here is loaded
by a build.

``pelican_cli`` builds and runs the Pelican command line (also used by the tests and the
bench), ``publishing`` stages, verifies, swaps and deploys a build. Failures raise
:class:`invoke.exceptions.Exit` with the message and exit status the task reports. The
repository's own benchmark and audit tooling (``invoke bench``, ``audit``, ``gpucheck``) is
not installed: it lives in the checkout's ``tools/``.
"""
