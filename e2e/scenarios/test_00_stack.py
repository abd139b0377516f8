"""The stack itself: separate processes, all healthy, nothing listening beyond loopback."""

from __future__ import annotations

import os
from pathlib import Path

from stack_api import AirflowApi, StackInfo

AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def component_pids(run_dir: Path) -> dict[str, int]:
    return {p.stem: int(p.read_text()) for p in (run_dir / "pids").glob("*.pid")}


def session_members(sid: int) -> list[int]:
    """Every process in the session ``sid`` (each component runs in its own session)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == sid:
                members.append(int(entry.name))
        except OSError:
            continue
    return members


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in (Path("/proc") / str(pid) / "fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    except OSError:
        pass
    return inodes


def listening_sockets() -> dict[str, str]:
    """inode → local address of every listening TCP socket (IPv4 and IPv6)."""
    out = {}
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A":  # LISTEN
                continue
            address_hex, port_hex = local.split(":")
            assert len(address_hex) == width
            if width == 8:
                address = ".".join(str(int(address_hex[i:i + 2], 16)) for i in (6, 4, 2, 0))
            else:
                words = [address_hex[i:i + 8] for i in range(0, 32, 8)]
                raw = b"".join(bytes.fromhex(w)[::-1] for w in words)
                address = "[" + ":".join(raw[i:i + 2].hex() for i in range(0, 16, 2)) + "]"
            out[inode] = f"{address}:{int(port_hex, 16)}"
    return out


def test_components_run_as_separate_healthy_processes(stack: StackInfo, api: AirflowApi) -> None:
    pids = component_pids(stack.run_dir)
    expected = [*AIRFLOW_COMPONENTS, "postgres", "sandbox"]
    if stack.executor == "celery":
        expected += ["worker1", "worker2", "redis"]
    assert sorted(pids) == sorted(expected), f"components running: {sorted(pids)}"
    assert len(set(pids.values())) == len(pids)
    for name, pid in pids.items():
        assert session_members(pid), f"{name} (pid {pid}) is not running"

    health = api.session.get(f"{stack.api_url}/api/v2/monitor/health", timeout=30).json()
    for component in ("metadatabase", "scheduler", "triggerer", "dag_processor"):
        assert health[component]["status"] == "healthy", f"{component}: {health[component]}"

    version = api.get("/version")
    assert version["version"].startswith("3."), version


def test_nothing_listens_beyond_loopback(stack: StackInfo) -> None:
    listening = listening_sockets()
    found: dict[str, list[str]] = {}
    for name, sid in component_pids(stack.run_dir).items():
        for pid in session_members(sid):
            for inode in socket_inodes(pid):
                if inode in listening:
                    found.setdefault(name, []).append(listening[inode])
    # The api-server, postgres and the sandbox must listen (on loopback); nothing else needs to.
    assert {"api-server", "postgres", "sandbox"} <= set(found), f"listening sockets by component: {found}"
    loopback = ("127.", "[0000:0000:0000:0000:0000:0000:0000:0001]")
    exposed = {name: [a for a in addresses if not a.startswith(loopback)] for name, addresses in found.items()}
    exposed = {name: addresses for name, addresses in exposed.items() if addresses}
    assert not exposed, f"listening beyond loopback: {exposed} (all listening sockets: {found})"
