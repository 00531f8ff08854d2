"""The reference workloads: each one correct, checked, bounded, and picklable where it must be."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import sys
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_concur import workloads
from pytest_concur.workloads import _http

# Pi as printed in published tables: the first 50 decimals; the "Feynman point" (six 9s
# from decimal place 762); the 1000th decimal place is a 9.
PUBLISHED_FIRST_50 = "14159265358979323846264338327950288419716939937510"


# ---------------------------------------------------------------------------- pi


@pytest.fixture(scope="module")
def pi_1000() -> str:
    return workloads.pi_digits(1000)


def test_pi_to_1000_places_matches_the_reference(pi_1000: str) -> None:
    assert len(pi_1000) == 1002
    assert pi_1000.startswith("3." + PUBLISHED_FIRST_50)
    assert workloads.sha256(pi_1000) == workloads.PI_1000_SHA256
    assert pi_1000[2 + 761 : 2 + 767] == "999999"  # decimal places 762 to 767
    assert pi_1000.endswith("2164201989")  # the 1000th decimal place is 9


def test_machin_agrees_with_the_spigot(pi_1000: str) -> None:
    assert workloads.pi_machin(1000) == pi_1000
    assert pi_1000[:52] == workloads.PI_50


@pytest.mark.parametrize("places", [1, 2, 3, 10, 761, 762, 765, 767, 768])
def test_pi_digits_is_exact_at_awkward_lengths(places: int) -> None:
    # around the Feynman point the spigot holds back six 9s; every digit must still be final
    digits = workloads.pi_digits(places)
    assert len(digits) == places + 2
    assert workloads.is_pi(digits)


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=1, max_value=250))
def test_spigot_and_machin_agree_everywhere(places: int) -> None:
    assert workloads.pi_digits(places) == workloads.pi_machin(places)


def test_is_pi_rejects_wrong_digits(pi_1000: str) -> None:
    wrong = pi_1000[:-1] + ("0" if pi_1000[-1] != "0" else "1")
    assert not workloads.is_pi(wrong)
    assert not workloads.is_pi("3.")
    assert not workloads.is_pi("2.718")


@pytest.mark.parametrize("places", [0, -1, True, 2.5])
def test_pi_rejects_bad_places(places: object) -> None:
    with pytest.raises(ValueError, match="places must be a positive integer"):
        workloads.pi_digits(places)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="places must be a positive integer"):
        workloads.pi_machin(places)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- web site


@pytest.fixture(scope="module")
def site() -> Iterator[workloads.LatencyServer]:
    with workloads.LatencyServer(0.03, body_bytes=3000) as server:
        yield server


def test_fetch_waits_for_the_latency(site: workloads.LatencyServer) -> None:
    started = time.perf_counter()
    assert workloads.fetch(site.url) == 3000
    assert time.perf_counter() - started >= 0.03


def test_every_client_gets_the_whole_page(site: workloads.LatencyServer) -> None:
    url = site.urls(1)[0]
    assert workloads.fetch(url) == 3000
    assert workloads.fetch_polling(url) == 3000
    assert asyncio.run(workloads.fetch_async(url)) == 3000


def test_blocking_fetch_sleeps_and_polling_fetch_spins(site: workloads.LatencyServer) -> None:
    url = site.urls(1, latency_s=0.1)[0]
    cpu = time.thread_time()
    workloads.fetch(url)
    blocking_cpu = time.thread_time() - cpu
    cpu = time.thread_time()
    workloads.fetch_polling(url)
    polling_cpu = time.thread_time() - cpu
    # robust bounds: a busy loop over 0.1 s burns far more CPU than one blocked recv
    assert blocking_cpu < 0.03
    assert polling_cpu > blocking_cpu


def test_asynchronous_fetches_overlap(site: workloads.LatencyServer) -> None:
    async def crawl() -> list[int]:
        return list(await asyncio.gather(*(workloads.fetch_async(u) for u in site.urls(20))))

    started = time.perf_counter()
    assert asyncio.run(crawl()) == [3000] * 20
    assert time.perf_counter() - started < 20 * 0.03  # sequentially it would take 0.6 s


def test_per_request_latency(site: workloads.LatencyServer) -> None:
    (url,) = site.urls(1, latency_s=0.2)
    started = time.perf_counter()
    workloads.fetch(url)
    assert time.perf_counter() - started >= 0.2


def test_server_is_gone_after_the_block() -> None:
    with workloads.LatencyServer(0.0) as server:
        pid = server.pid
        assert workloads.fetch(server.url) == 1024
        assert "127.0.0.1" in repr(server)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert "stopped" in repr(server)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


def test_server_bounds_its_own_life() -> None:
    server = workloads.LatencyServer(0.0, max_seconds=0.3)
    server.start()
    try:
        pid = server.pid
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            result = os.waitpid(pid, os.WNOHANG)
            if result != (0, 0):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the server outlived max_seconds")
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"latency_s": -1}, "latency_s"),
        ({"body_bytes": -1}, "body_bytes"),
        ({"max_seconds": 0}, "max_seconds"),
    ],
)
def test_server_rejects_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        workloads.LatencyServer(**kwargs)


def test_fetch_rejects_other_schemes() -> None:
    with pytest.raises(ValueError, match="only http://"):
        workloads.fetch("https://127.0.0.1/")


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nabc", "body has 3 bytes"),
        (b"HTTP/1.0 404 Not Found\r\n\r\n", "unexpected status"),
        (b"HTTP/1.0 200 OK\r\nContent-Len", "incomplete response headers"),
    ],
)
def test_bad_responses_are_errors(response: bytes, message: str) -> None:
    with pytest.raises(workloads.FetchError, match=message):
        workloads.body_length(response)


def test_refused_connection_is_an_error_for_the_polling_client() -> None:
    with workloads.LatencyServer(0.0) as server:
        url = server.url
    with pytest.raises(ConnectionError):
        workloads.fetch_polling(url, timeout_s=5)


def test_server_start_failure_names_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "_SERVER_SCRIPT", Path("/nonexistent/server.py"))
    with pytest.raises(RuntimeError, match="exited with status"), workloads.LatencyServer():
        pass


# ---------------------------------------------------------------------------- files


def test_files_read_back_with_their_checksums(tmp_path: Path) -> None:
    files = workloads.make_files(tmp_path, count=3, size_bytes=300_000, seed=7)
    assert len(files.paths) == 3
    assert files.total_bytes == 900_000
    for path, checksum in zip(files.paths, files.checksums, strict=True):
        assert Path(path).stat().st_size == 300_000
        assert workloads.process_file(path) == checksum == zlib.crc32(Path(path).read_bytes())
    # the same seed gives the same data
    again = workloads.make_files(tmp_path / "again", count=3, size_bytes=300_000, seed=7)
    assert again.checksums == files.checksums


def test_files_are_dropped_from_the_page_cache_where_the_kernel_allows(tmp_path: Path) -> None:
    files = workloads.make_files(tmp_path, count=1, size_bytes=4096)
    assert files.dropped == workloads.drop_from_cache(files.paths[0])


def test_make_files_rejects_nothing_to_write(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        workloads.make_files(tmp_path, count=0)


# ---------------------------------------------------------------------------- pinning


def _affinity(_: object) -> frozenset[int]:
    return frozenset(os.sched_getaffinity(0))


def test_pinned_runs_on_the_chosen_cpu_and_restores_the_mask() -> None:
    before = os.sched_getaffinity(0)
    task = workloads.pinned(_affinity)
    assert task(None) == workloads.one_cpu()
    assert os.sched_getaffinity(0) == before
    assert workloads.usable_cpus() == frozenset(before)


def test_pinned_travels_to_worker_processes() -> None:
    task = pickle.loads(pickle.dumps(workloads.pinned(_affinity, {min(os.sched_getaffinity(0))})))
    with ProcessPoolExecutor(1) as pool:
        assert pool.submit(task, None).result() == frozenset({min(os.sched_getaffinity(0))})


def test_on_cpus_pins_the_caller_and_what_it_starts() -> None:
    before = os.sched_getaffinity(0)
    with workloads.on_cpus() as chosen:
        assert os.sched_getaffinity(0) == chosen == workloads.one_cpu()
        # started inside: inherits the mask (spawn: a forkserver, the default from 3.14,
        # started earlier in the session keeps its own)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            assert pool.submit(_affinity, None).result() == chosen
    assert os.sched_getaffinity(0) == before
    with pytest.raises(ValueError, match="at least one CPU"), workloads.on_cpus(set()):
        pass


def test_pinned_needs_a_cpu() -> None:
    with pytest.raises(ValueError, match="at least one CPU"):
        workloads.pinned(_affinity, set())


# ---------------------------------------------------------------------------- switching


@pytest.mark.parametrize("pair", workloads.PAIRS)
def test_ping_pong_switches_and_restores_affinity(pair: str) -> None:
    before = os.sched_getaffinity(0)
    rate = workloads.ping_pong(pair, 2000)
    assert rate > 0
    assert os.sched_getaffinity(0) == before


def test_ping_pong_unpinned() -> None:
    assert workloads.ping_pong("threads", 200, one_core=False) > 0


@pytest.mark.parametrize(
    ("pair", "exchanges", "message"),
    [("fibers", 10, "pair must be one of"), ("threads", 0, "exchanges must be positive")],
)
def test_ping_pong_rejects_bad_arguments(pair: str, exchanges: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        workloads.ping_pong(pair, exchanges)


# ---------------------------------------------------------------------------- waiting


@pytest.mark.parametrize("kind", workloads.SWARM_KINDS)
def test_swarm_runs_them_all_at_once(kind: str) -> None:
    started = time.perf_counter()
    assert workloads.swarm(kind, count=300, nap_s=0.05) == 300
    # all alive at once: one nap, not 300 (generous bound for a busy machine)
    assert time.perf_counter() - started < 0.05 * 300 / 4


def test_swarm_of_threads_restores_the_switch_interval() -> None:
    before = sys.getswitchinterval()
    assert workloads.swarm("threads", count=20, nap_s=0.0) == 20
    assert sys.getswitchinterval() == before


def test_swarm_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        workloads.swarm("fibers")
    with pytest.raises(ValueError, match="count must be positive"):
        workloads.swarm("threads", count=0)


def test_sleeps_return_what_they_waited() -> None:
    assert workloads.sleep(0.001) == 0.001
    assert asyncio.run(workloads.async_sleep(0.001)) == 0.001
