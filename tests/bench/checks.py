"""What the bench tests share: running a tool, and collecting what failed."""
import subprocess

failures = []


def run(*argv):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=600)


def expect(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)
