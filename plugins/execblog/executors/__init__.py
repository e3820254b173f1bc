"""Where sessions run: executors, the host side of a session and its worker side.

``session_loop`` is the one per-session loop every executor drives (timeouts, skipped
fences, located messages); the engine chooses and holds them (``engine.lifetime``).
``local/`` forks sessions from a warm fork server on this machine; ``dask_executor`` runs
them on a Dask cluster. Both register through the ``fences_executor`` hook.
"""
