"""The cgroup layout on both versions, against fake cgroup trees (plain directories): which directories are
made and which limits written. The real thing, on this machine's hierarchy, is in test_bwrap.py."""

from __future__ import annotations

import os

import pytest

from sandbox.backends import cgroups

SPEC = cgroups.Spec(memory_bytes=320 << 20, pids=65, cpus=0.5)
DEAD_PID = 2 ** 22 + 1  # above any pid_max


def _tree(root, files: dict[str, str]) -> None:
    for path, text in files.items():
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(text)


def test_v2_subtree_under_the_services_own_cgroup(tmp_path):
    _tree(tmp_path, {"cgroup.controllers": "cpuset cpu io memory pids\n",
                     "system.slice/reward.service/cgroup.controllers": "cpu memory pids\n",
                     "system.slice/reward.service/cgroup.subtree_control": "",
                     "system.slice/reward.service/cgroup.procs": ""})
    base = tmp_path / "system.slice/reward.service"
    hierarchy = cgroups._v2(str(tmp_path), "/system.slice/reward.service")
    assert hierarchy.version == 2 and hierarchy.describe() == "cgroup v2 limits"
    assert (base / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (base / "reward-sandbox/cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (base / "reward-sandbox/cpu.weight").read_text() == str(min(10_000, 100 * os.cpu_count()))
    group = hierarchy.create(SPEC)
    assert len(group.dirs) == 1 and os.path.dirname(group.dirs[0]) == str(base / "reward-sandbox")
    limits = {name: open(os.path.join(group.dirs[0], name)).read() for name in os.listdir(group.dirs[0])}
    assert limits == {"memory.max": str(320 << 20), "pids.max": "65", "cpu.max": "50000 100000"}


def test_v2_without_delegated_controllers_says_which(tmp_path):
    _tree(tmp_path, {"cgroup.controllers": "cpu memory pids\n", "user.slice/cgroup.controllers": "cpu memory\n"})
    with pytest.raises(cgroups.Unavailable, match="pids controller"):
        cgroups._v2(str(tmp_path), "/user.slice")


def test_v1_subtree_in_each_hierarchy(tmp_path):
    _tree(tmp_path, {"memory/cgroup.procs": "", "memory/svc/cgroup.procs": "", "pids/cgroup.procs": "",
                     "cpu,cpuacct/cgroup.procs": "", "cpu,cpuacct/svc/cgroup.procs": ""})
    os.symlink("cpu,cpuacct", tmp_path / "cpu")
    own = cgroups._own_paths(str(_self_cgroup(tmp_path, "12:pids:/\n4:memory:/svc\n3:cpu,cpuacct:/svc\n0::/\n")))
    hierarchy = cgroups._v1(str(tmp_path), own)
    assert hierarchy.subtrees == {"memory": str(tmp_path / "memory/svc/reward-sandbox"),
                                  "pids": str(tmp_path / "pids/reward-sandbox"),
                                  "cpu": str(tmp_path / "cpu,cpuacct/svc/reward-sandbox")}
    assert (tmp_path / "cpu,cpuacct/svc/reward-sandbox/cpu.shares").read_text() == str(1024 * os.cpu_count())
    group = hierarchy.create(SPEC)
    memory, pids, cpu = group.dirs
    assert group.memory_dir == memory and os.listdir(memory) == ["memory.limit_in_bytes"]
    assert open(os.path.join(memory, "memory.limit_in_bytes")).read() == str(320 << 20)
    assert open(os.path.join(pids, "pids.max")).read() == "65"
    assert open(os.path.join(cpu, "cpu.cfs_quota_us")).read() == "50000"
    assert open(os.path.join(cpu, "cpu.cfs_period_us")).read() == "100000"


def test_no_hierarchy_is_a_one_line_reason(tmp_path):
    with pytest.raises(cgroups.Unavailable) as caught:
        cgroups.find(str(tmp_path), str(_self_cgroup(tmp_path, "0::/\n")))
    assert "\n" not in str(caught.value) and str(tmp_path) in str(caught.value)


def test_groups_of_a_service_that_died_are_removed(tmp_path):
    subtree = tmp_path / "reward-sandbox"
    for name in (f"{DEAD_PID}-3", f"{os.getpid()}-5", "reward-service"):
        (subtree / name).mkdir(parents=True)
    assert cgroups.Hierarchy(2, dict.fromkeys(cgroups.CONTROLLERS, str(subtree))).sweep_stale() == 1
    assert sorted(os.listdir(subtree)) == [f"{os.getpid()}-5", "reward-service"]


def _self_cgroup(tmp_path, text: str):
    path = tmp_path / "self-cgroup"
    path.write_text(text)
    return path
