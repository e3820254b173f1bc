"""Sessions on a real Dask cluster (distributed.LocalCluster, worker processes on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import pytest
from conftest import pelican_cmd, pelican_env, run_pelican, write_files

distributed = pytest.importorskip("distributed", reason="the Dask executor needs distributed")

POSTS = {
    "posts/a.md": "Title: A\nDate: 2026-06-01\n\nSome prose.\n\n"
                  "```python exec inputs=data.txt\nimport os\nprint(open('data.txt').read())\n"
                  "print(os.getpid() != os.getppid())\n```\n\n"
                  "```python exec\nimport matplotlib.pyplot as plt\nplt.plot([0, 1, 4])\n```\n",
    "posts/data.txt": "numbers from a file\n",
    "posts/b.md": "Title: B\nDate: 2026-06-02\n\n```python exec\nx = xp.arange(5)\nx.sum()\n```\n\n"
                  "```python exec error=true\nraise ValueError('expected')\n```\n",
    "posts/c.md": "Title: C\nDate: 2026-06-03\n\n```python exec\nimport ctypes\n"
                  "ctypes.string_at(0)\n```\n\n```python exec session=other\nprint('alive')\n```\n",
}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0") as cluster:
        yield cluster


def _build(tmp_path, name: str, **settings):
    out = tmp_path / name
    proc = run_pelican(tmp_path / "content", out,
                       settings={"FENCES_CACHE_PATH": str(tmp_path / f"cache-{name}"),
                                 **settings})
    report = json.loads((tmp_path / f"cache-{name}" / "report.json").read_text())
    return proc, out, report


def _pages(out) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text() for p in sorted(out.rglob("*.html"))}


def test_pages_are_the_same_locally_and_on_the_cluster(tmp_path, cluster):
    write_files(tmp_path / "content", POSTS)
    local, local_out, local_report = _build(tmp_path, "local")
    dask, dask_out, dask_report = _build(tmp_path, "dask",
                                         FENCES_EXECUTOR=cluster.scheduler_address)
    assert local.returncode == 0 and dask.returncode == 0, dask.stdout + dask.stderr
    assert _pages(local_out) == _pages(dask_out)
    assert sorted(p.name for p in (local_out / "fences").iterdir()) == \
        sorted(p.name for p in (dask_out / "fences").iterdir())
    workers = set(cluster.scheduler_info["workers"])
    ran = [f for f in dask_report["fences"] if f["status"] != "cached"]
    assert {f["ran_on"]["executor"] for f in ran} == {"dask"}
    assert {f["ran_on"]["worker"] for f in ran} <= workers  # really on the workers
    assert [f["status"] for f in dask_report["fences"]] == \
        [f["status"] for f in local_report["fences"]]
    crashed = [f for f in dask_report["fences"] if f["status"] == "crashed"]
    assert len(crashed) == 1 and "SIGSEGV" in crashed[0]["message"]  # the worker survived
    # The host owns the cache: what ran on the cluster is served from it next time.
    again, _, again_report = _build(tmp_path, "dask", FENCES_EXECUTOR=cluster.scheduler_address)
    assert again.returncode == 0
    was = {(f["source"], f["line"]): f["status"] for f in dask_report["fences"]}
    for fence in again_report["fences"]:
        if was[(fence["source"], fence["line"])] in ("ran", "expected-error"):
            assert fence["status"] == "cached", fence


def test_a_worker_killed_mid_session_fails_or_retries_only_that_session(tmp_path, cluster):
    started = tmp_path / "started"
    slow = ("```python exec timeout=120\nimport os, time\n"
            f"open({str(started)!r}, 'w').write(str(os.getpid()))\ntime.sleep(8)\n"
            "print('slow done')\n```\n")
    write_files(tmp_path / "content", {
        "posts/slow.md": "Title: Slow\nDate: 2026-06-04\n\n" + slow,
        "posts/quick.md": "Title: Quick\nDate: 2026-06-05\n\n```python exec\nprint('quick')\n```\n",
    })
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0") as own:
        pids = distributed.Client(own).run(os.getpid)
        build = subprocess.Popen(
            pelican_cmd(tmp_path / "content", tmp_path / "out",
                        settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                  "FENCES_EXECUTOR": own.scheduler_address}),
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=pelican_env())
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started.exists(), "the slow fence never started"
        session = int(started.read_text())
        # the Dask worker whose session this is: the session's guardian's parent's parent
        victim = next(pid for pid in pids.values() if _is_ancestor(pid, session))
        started.unlink()
        os.kill(victim, signal.SIGKILL)
        log, _ = build.communicate(timeout=120)
    assert build.returncode == 0, log
    report = json.loads((tmp_path / "cache/report.json").read_text())
    status = {f["source"]: f["status"] for f in report["fences"]}
    assert status["posts/quick.md"] == "ran"
    assert status["posts/slow.md"] in ("ran", "crashed"), log  # retried once, or failed alone


def test_an_unreachable_scheduler_is_one_clear_error_within_bounded_time(tmp_path):
    write_files(tmp_path / "content", {"posts/a.md": POSTS["posts/b.md"]})
    started = time.monotonic()
    proc = run_pelican(tmp_path / "content", tmp_path / "out", conf="publishconf.py",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_EXECUTOR": "tcp://127.0.0.1:9"}, timeout=120)
    log = proc.stdout + proc.stderr
    assert time.monotonic() - started < 60
    assert proc.returncode != 0  # strict: the fences did not run
    lines = [line for line in log.splitlines() if "cannot reach the Dask scheduler" in line]
    assert len(lines) == 1 and "tcp://127.0.0.1:9" in lines[0], log


def test_a_tls_address_without_certificates_is_one_clear_error_and_a_report(tmp_path):
    write_files(tmp_path / "content", {"posts/a.md": POSTS["posts/b.md"]})
    started = time.monotonic()
    proc = run_pelican(tmp_path / "content", tmp_path / "out", conf="publishconf.py",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_EXECUTOR": "tls://127.0.0.1:1"}, timeout=120)
    log = proc.stdout + proc.stderr
    assert time.monotonic() - started < 30, log  # nothing waited on a connection
    assert proc.returncode != 0  # strict: the fences did not run
    assert "Traceback" not in log and "TypeError" not in log, log
    lines = [line for line in log.splitlines() if "is a TLS address" in line]
    assert len(lines) == 1, log
    assert lines[0].startswith("content/posts/a.md:4: error: FENCES_EXECUTOR = "
                               "'tls://127.0.0.1:1'") and "FENCES_DASK_SECURITY" in lines[0]
    report = json.loads((tmp_path / "cache" / "report.json").read_text())
    assert [f["status"] for f in report["fences"]] == ["failed", "skipped"]


def test_security_settings_are_checked_before_anything_connects():
    from execblog.executors.dask_executor import _security

    security, problem = _security("tcp://127.0.0.1:9", None)
    assert problem is None and not security.require_encryption
    _, problem = _security("tls://127.0.0.1:9", {"tls_ca_file": "/no/ca.pem",
                                                  "tls_client_cert": "/no/cert.pem"})
    assert problem == "FENCES_DASK_SECURITY: tls_ca_file '/no/ca.pem' is not a file; no fence ran"
    _, problem = _security("tcp://127.0.0.1:9", {"require_encryption": True})
    assert "is not a TLS address, but encryption is required" in problem
    _, problem = _security("wss://127.0.0.1:9", {})
    assert "is a TLS address, but no TLS certificates were given" in problem


@pytest.mark.skipif(shutil.which("openssl") is None, reason="makes its certificate with openssl")
def test_sessions_run_on_a_tls_cluster_with_the_security_setting(tmp_path):
    from distributed.security import Security

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=dask", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    c, k = str(cert), str(key)
    cluster_security = Security(tls_ca_file=c, tls_scheduler_cert=c, tls_scheduler_key=k,
                                tls_worker_cert=c, tls_worker_key=k, tls_client_cert=c,
                                tls_client_key=k, require_encryption=True)
    write_files(tmp_path / "content", {"posts/a.md": POSTS["posts/b.md"]})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", protocol="tls://",
                                  security=cluster_security, dashboard_address=":0") as tls:
        assert tls.scheduler_address.startswith("tls://")
        proc, _, report = _build(tmp_path, "tls", FENCES_EXECUTOR=tls.scheduler_address,
                                 FENCES_DASK_SECURITY={"tls_ca_file": c, "tls_client_cert": c,
                                                       "tls_client_key": k})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [f["status"] for f in report["fences"]] == ["ran", "expected-error"]
    assert {f["ran_on"]["worker"][:6] for f in report["fences"]} == {"tls://"}


def _is_ancestor(ancestor: int, pid: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            return False
        pid = int(stat.rpartition(")")[2].split()[1])
    return False



def test_without_distributed_the_error_names_the_extra(tmp_path):
    # A `distributed` that cannot be imported, first on the path: as on a machine without it.
    write_files(tmp_path / "shadow", {"distributed.py": "raise ImportError('not here')\n"})
    write_files(tmp_path / "content", {"posts/a.md": POSTS["posts/b.md"]})
    proc = run_pelican(tmp_path / "content", tmp_path / "out",
                       settings={"FENCES_CACHE_PATH": str(tmp_path / "cache"),
                                 "FENCES_EXECUTOR": "tcp://127.0.0.1:9"},
                       env={"PYTHONPATH": f"{tmp_path / 'shadow'}{os.pathsep}"
                                          f"{os.environ.get('PYTHONPATH', '')}"})
    log = proc.stdout + proc.stderr
    assert 'pip install -e ".[cluster]"' in log, log
