"""Fixtures the experiments share: a slow local web site and a folder of data files.

Both are set up once per session, before any round: neither is part of what is measured.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import pytest_concur as pc
from pytest_concur import workloads

#: Every page of the local site takes this long to answer: the "network" of the crawler.
LATENCY_S = 0.02


@pytest.fixture(scope="session")
def slow_site() -> Iterator[workloads.LatencyServer]:
    """A web site on 127.0.0.1 whose pages take LATENCY_S each; stopped after the session."""
    with workloads.LatencyServer(LATENCY_S) as site:
        yield site


@pytest.fixture
def site(slow_site: workloads.LatencyServer, concur: pc.Concur) -> workloads.LatencyServer:
    """The slow site, left out of the measurement: it plays the remote server."""
    concur.exclude_process(slow_site.pid)
    return slow_site


@pytest.fixture(scope="session")
def data_files(tmp_path_factory: pytest.TempPathFactory) -> workloads.FileSet:
    """16 files of 4 MiB of random bytes, on disk and out of the page cache."""
    return workloads.make_files(tmp_path_factory.mktemp("data"), count=16, size_bytes=4 << 20)
