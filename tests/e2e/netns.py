"""Network namespace plumbing: commands run in a namespace, a thread entering one, and
removal of every namespace a run made (by its prefix)."""
import ctypes
import os
import subprocess
import tempfile
from contextlib import contextmanager

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def run(*cmd, ns=None, input=None, check=True):
    """Runs a command (in namespace `ns` when given); returns its stdout."""
    argv = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
    done = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=60)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def load_nft(ns, text):
    """Loads an nft script into namespace `ns` in one transaction (`nft -f`, from a file so
    that errors name a line)."""
    with tempfile.NamedTemporaryFile("w", suffix=".nft", delete=False) as f:
        f.write(text)
    try:
        run("nft", "-f", f.name, ns=ns)
    finally:
        os.unlink(f.name)


def batch(lines):
    """Runs many `ip` commands, few processes: those for the root namespace (`link add`)
    first, then each namespace's (written `-n NS ...`), in order, with `ip -n NS -batch -`."""
    root, per_ns = [], {}
    for line in lines:
        if line.startswith("-n "):
            _, ns, rest = line.split(" ", 2)
            per_ns.setdefault(ns, []).append(rest)
        else:
            root.append(line)
    for ns, cmds in [(None, root)] + list(per_ns.items()):
        if cmds:
            run("ip", *(["-n", ns] if ns else []), "-batch", "-", input="\n".join(cmds) + "\n")


def add(name):
    run("ip", "netns", "add", name)
    run("ip", "link", "set", "lo", "up", ns=name)


def names_with_prefix(prefix):
    out = run("ip", "netns", "list")
    names = [line.split()[0] for line in out.splitlines() if line.split()]
    return [n for n in names if n.startswith(prefix)]


def remove_all(prefix):
    """Deletes every namespace whose name starts with `prefix`; veths go with them."""
    for name in names_with_prefix(prefix):
        run("ip", "netns", "del", name, check=False)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextmanager
def inside(name):
    """The calling thread enters namespace `name`, and comes back afterwards. Sockets made
    inside stay in that namespace wherever they are used."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        _setns(target)
        yield
    finally:
        _setns(home)
        os.close(target)
        os.close(home)
