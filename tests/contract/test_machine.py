"""Every stage counts the CPUs it may use the same way."""

import os

from contract.machine import vcpus


def test_vcpus_are_the_cpus_this_process_may_run_on(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    assert vcpus() == 3


def test_without_an_affinity_mask_every_cpu_counts_and_at_least_one(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert vcpus() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert vcpus() == 1
