"""pytest-xdist workers over SSH (``--tx ssh=...``), end to end against a loopback sshd.

The test starts its own sshd on 127.0.0.1 with throwaway keys, runs an experiment with
two SSH workers and one local worker, and reads the results file. The SSH workers are on
the same machine as the controller, so they must share the controller's measuring lock
with the local worker. Skips where no OpenSSH server or client is installed or sshd
cannot start; ``CONCUR_REQUIRE_SSH=1`` (set by .ci/run once it installed the server)
turns those skips into failures, so CI cannot pass without running it.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import overlaps, read_results, windows

from pytest_concur._running.xdist import LOCK_KEY

SSHD = "/usr/sbin/sshd"
SSH = shutil.which("ssh")
SSH_KEYGEN = shutil.which("ssh-keygen")
ALIAS = "concur-loopback"
REQUIRED = os.environ.get("CONCUR_REQUIRE_SSH") == "1"


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"CONCUR_REQUIRE_SSH=1 but {reason}")
    pytest.skip(reason)


@dataclass(frozen=True, slots=True)
class LoopbackSsh:
    port: int
    ssh_config: Path

    def tx(self, chdir: Path) -> str:
        """An xdist ``--tx`` spec for a worker on this sshd running this test's Python."""
        # chdir: the worker's working folder is the pytester folder, which the loopback
        # host shares with the controller, so no rsync of the tests is needed
        return f"ssh={ALIAS}//ssh_config={self.ssh_config}//python={sys.executable}//chdir={chdir}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _keygen(path: Path) -> None:
    assert SSH_KEYGEN is not None
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30
    )


def _start_sshd(config: Path, log: Path) -> subprocess.Popen[bytes] | None:
    """sshd in the foreground, bounded by ``timeout`` in case teardown never runs."""
    timeout = shutil.which("timeout")
    bound = [timeout, "-k", "5", "300"] if timeout else []
    with log.open("wb") as out:
        daemon = subprocess.Popen([*bound, SSHD, "-D", "-e", "-f", str(config)], stderr=out)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if "Server listening" in log.read_text(errors="replace"):
            return daemon
        if daemon.poll() is not None:
            return None
        time.sleep(0.05)
    _stop(daemon)
    return None


def _stop(daemon: subprocess.Popen[bytes]) -> None:
    daemon.terminate()
    try:
        daemon.wait(timeout=10)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait(timeout=10)


@pytest.fixture(scope="module")
def loopback_ssh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSsh]:
    if sys.platform != "linux":
        pytest.skip("the workers report their open lock files from /proc: Linux only")
    if not (os.access(SSHD, os.X_OK) and SSH and SSH_KEYGEN):
        _unavailable(
            "the OpenSSH server or client is not installed (apt-get install openssh-server)"
        )
    folder = tmp_path_factory.mktemp("sshd")
    try:
        # sshd refuses to start without its privilege separation folder
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    except OSError as error:
        _unavailable(f"/run/sshd is missing and cannot be made: {error}")
    _keygen(folder / "host_key")
    _keygen(folder / "client_key")
    authorized = folder / "authorized_keys"
    shutil.copy(folder / "client_key.pub", authorized)
    log = folder / "sshd.log"
    daemon = None
    for _ in range(3):  # the free port may be taken between probing and binding
        port = _free_port()
        config = folder / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {folder / 'host_key'}\n"
            f"AuthorizedKeysFile {authorized}\nPidFile none\nStrictModes no\nUsePAM no\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nLoginGraceTime 30\n"
        )
        daemon = _start_sshd(config, log)
        if daemon is not None:
            break
    if daemon is None:
        _unavailable(f"sshd did not start: {log.read_text(errors='replace')[-2000:]}")
    assert daemon is not None
    ssh_config = folder / "ssh_config"
    ssh_config.write_text(
        f"Host {ALIAS}\n  HostName 127.0.0.1\n  Port {port}\n  User {getpass.getuser()}\n"
        f"  IdentityFile {folder / 'client_key'}\n  IdentitiesOnly yes\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  BatchMode yes\n"
        "  LogLevel ERROR\n  ConnectTimeout 10\n"
    )
    try:
        assert SSH is not None
        probe = subprocess.run(
            [SSH, "-F", str(ssh_config), ALIAS, "true"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode != 0:
            _unavailable(
                f"cannot log in to the loopback sshd: {probe.stderr.strip()}\n"
                f"{log.read_text(errors='replace')[-2000:]}"
            )
        yield LoopbackSsh(port=port, ssh_config=ssh_config)
    finally:
        _stop(daemon)


EXPERIMENT = """
import pytest

def spin(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

@pytest.mark.concur(workload="cpu", models=["serial", "threads"], workers=[2], rounds=4,
                    warmup=1)
def test_spin_{name}(concur):
    concur.map(spin, [300_000] * 2)
"""
FILES = ("a", "b", "c")  # --dist loadfile: one file per worker, so all three measure
ITEMS = 2 * len(FILES)  # serial and threads-2 per file
ROUNDS_PER_ITEM = 5  # 1 warm-up + 4 measured

# On each worker, when its session ends: where it runs, and which lock files it holds
# open (read from /proc, so it is the file the worker really locked, not the path it was
# given). Written outside the measured rounds, from a hook, so it costs them nothing.
WORKER_FACTS = """
import json, os, socket, sys
from pathlib import Path

def held_locks():
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{{fd}}")
        except OSError:  # the fd of the listing itself is gone already
            continue
        if target.endswith(".lock"):
            info = os.stat(target)
            found.add((target, info.st_dev, info.st_ino))
    return sorted(found)

def pytest_sessionfinish(session):
    given = getattr(session.config, "workerinput", None)
    if given is None:
        return
    facts = {{
        "ssh_connection": os.environ.get("SSH_CONNECTION"),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "given_lock": given[{lock_key!r}],
        "held_locks": held_locks(),
    }}
    Path({folder!r}, given["workerid"] + ".json").write_text(json.dumps(facts))
"""


def test_ssh_workers_measure_on_their_host_and_share_its_lock(
    pytester: pytest.Pytester, loopback_ssh: LoopbackSsh
) -> None:
    facts_folder = pytester.mkdir("worker-facts")
    pytester.makeconftest(WORKER_FACTS.format(lock_key=LOCK_KEY, folder=str(facts_folder)))
    pytester.makepyfile(**{f"test_{name}": EXPERIMENT.format(name=name) for name in FILES})
    ssh_tx = loopback_ssh.tx(pytester.path)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--dist", "loadfile",
        # counted rows: no repeats of crowded rounds (PYTEST_ADDOPTS does not cross SSH)
        "--concur-crowded-retries=0",
        # gw0 and gw1 over SSH, gw2 a local process
        "--tx", ssh_tx, "--tx", ssh_tx, "--tx", "popen",
        timeout=120,
    )  # fmt: skip
    result.assert_outcomes(passed=ITEMS)

    facts = {
        path.stem: json.loads(path.read_text()) for path in sorted(facts_folder.glob("*.json"))
    }
    assert sorted(facts) == ["gw0", "gw1", "gw2"]
    # gw0 and gw1 came in through this test's sshd (SSH_CONNECTION ends with the server
    # address and port); gw2 did not
    via_ours = f"127.0.0.1 {loopback_ssh.port}"
    for worker in ("gw0", "gw1"):
        connection = facts[worker]["ssh_connection"]
        assert connection is not None, facts
        assert connection.endswith(via_ours), connection
    assert not (facts["gw2"]["ssh_connection"] or "").endswith(via_ours)
    assert len({fact["pid"] for fact in facts.values()}) == 3
    # same machine, same lock: every worker, SSH or not, holds the one file the
    # controller made, so the lock spans local and SSH workers alike
    held = {worker: fact["held_locks"] for worker, fact in facts.items()}
    assert all(len(locks) == 1 for locks in held.values()), held
    assert len({tuple(locks[0]) for locks in held.values()}) == 1, held
    assert held["gw0"][0][0] == facts["gw0"]["given_lock"], held

    rows = read_results(pytester)
    # every round arrives exactly once, the SSH workers' rounds included
    assert len(rows) == ITEMS * ROUNDS_PER_ITEM
    assert not rows[["test_id", "round"]].astype(str).duplicated().any()
    for test_id, group in rows.groupby("test_id", observed=True):
        assert sorted(group["round"]) == list(range(ROUNDS_PER_ITEM)), test_id
    assert rows["run_id"].nunique() == 1
    workers = rows["xdist_worker"].astype(str)
    assert set(workers) == {"gw0", "gw1", "gw2"}
    # each worker measured one file (loadfile), and says where it ran
    for worker, group in rows.groupby(workers):
        assert group["test_id"].str.split("::").str[0].nunique() == 1, worker
        assert (group["host"] == facts[str(worker)]["host"]).all(), worker
    assert (rows["host"] == socket.gethostname()).all()
    assert (rows["python"] == rows["python"].iloc[0]).all()

    # the SSH workers' rows are real measurements of the busy function: CPU time was
    # spent, on about as many cores as the model runs (serial 1, threads-2 at most 2)
    remote = rows[workers.isin(["gw0", "gw1"])]
    assert len(remote) == 2 * 2 * ROUNDS_PER_ITEM
    assert (remote["outcome"] == "passed").all()
    assert (remote["wall_s"] > 0).all()
    assert (remote["cpu_s"] > 0).all()
    assert (remote["tasks"] == 2).all()
    cores = remote.groupby("model", observed=True)["cores_used"].median()
    assert 0.2 < cores["serial"] <= 1.2, cores
    assert 0.2 < cores["threads"] <= 2.2, cores
    # and comparable to the local worker's: the same function costs about the same CPU
    serial = rows[rows["model"] == "serial"].groupby(workers)["cpu_s"].median()
    assert 1 / 3 < serial["gw0"] / serial["gw2"] < 3, serial

    # one lock for the host: every round exclusive, every round waited (if at all) on the
    # lock, and no two workers' timed windows overlap although all three were measuring
    # over the same stretch of time
    assert rows["exclusive"].all()
    assert rows["lock_wait_s"].notna().all()
    assert (rows["lock_wait_s"] >= 0).all()
    frame = windows(rows)
    assert overlaps(frame) == 0, frame.to_string()
    spans = frame.groupby("worker").agg(first=("start", "min"), last=("end", "max"))
    assert spans["first"].max() < spans["last"].min(), spans.to_string()
