"""Array backends: which library a session's ``xp`` is, and the honest label of where it ran.

The engine's resolver (``execblog.engine.backends``) chooses among the candidates every
plugin offers (``fences_backend_candidates``) for a fence's ``backend=`` request, falling
back with one clear log line. Here, one module per candidate: NumPy, CuPy (``gpu-cuda12``
and ``gpu-cuda13`` extras), PyTorch and JAX; each declares whether it needs a GPU, which is
how executors route its sessions.
"""
