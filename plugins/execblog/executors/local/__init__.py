"""The ``local`` executor: sessions forked from a warm fork server on this machine.

Host side: ``pool`` (the fork server, one guardian per session, supervision), ``snapshots``
(parked copies of sessions for the preview), ``memory`` (limits). Worker side: ``preload``
(imported once by the fork server), ``containment`` (the guardian), ``worker`` (runs the
fences), ``capture`` (file-descriptor streams), ``forking``. ``plugin`` registers it.
"""
