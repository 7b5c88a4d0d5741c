#!/usr/bin/env python3
"""The pre-commit hooks of .pre-commit-hooks.yaml, installed with the real pre-commit tool in a
throw-away git repository: a commit that opens an escape path is refused, one that is not in
the canonical layout is refused, and clean ones are accepted; two independent policies
staged together are each checked on their own (`check --each`). No network: the repository's
config is `repo: local` with this checkout's hook definitions copied in verbatim.

Exits 77 (ctest SKIP_RETURN_CODE) only when pre-commit or git is not installed."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77

CLEAN = """policy "demo";
trust low = red < high = blue;
template tpl { trust high; }
netvm sys-net { template tpl; trust low; }
qube web { template tpl; trust low; netvm sys-net; }
qube vault { template tpl; trust high; netvm none; }
rpc qubes.Filecopy vault -> web ask;
rpc * web -> vault deny;
assert no path from web to vault;
"""

# Opens an escape path: the allow comes first, and the first match wins.
ESCAPE = CLEAN.replace("rpc * web -> vault deny;",
                       "rpc qubes.Filecopy web -> vault allow;\nrpc * web -> vault deny;")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bulkhead", required=True)
    ap.add_argument("--source", required=True, help="the checkout holding .pre-commit-hooks.yaml")
    args = ap.parse_args()

    for tool in ("pre-commit", "git"):
        if shutil.which(tool) is None:
            print(f"SKIPPED: {tool} is not installed (scripts/install-deps.sh installs it)")
            return SKIP

    with open(os.path.join(args.source, ".pre-commit-hooks.yaml")) as f:
        hooks = f.read()
    config = "repos:\n  - repo: local\n    hooks:\n" + "".join(
        "      " + line if line.strip() else "\n" for line in hooks.splitlines(keepends=True))

    failures = []
    with tempfile.TemporaryDirectory(prefix="bulkhead-precommit-") as tmp:
        repo = os.path.join(tmp, "repo")
        bindir = os.path.join(tmp, "bin")
        os.makedirs(repo)
        os.makedirs(bindir)
        os.symlink(os.path.abspath(args.bulkhead), os.path.join(bindir, "bulkhead"))
        env = dict(os.environ)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "/usr/bin:/bin")
        env["PRE_COMMIT_HOME"] = os.path.join(tmp, "cache")  # not the user's ~/.cache
        env["GIT_CONFIG_GLOBAL"] = os.path.join(tmp, "gitconfig")
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env.pop("GIT_DIR", None)
        env.pop("GIT_WORK_TREE", None)
        env.pop("GIT_INDEX_FILE", None)

        def run(*cmd, check=True):
            r = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
            if check and r.returncode != 0:
                raise SystemExit(f"FAILED: {' '.join(cmd)} exited {r.returncode}\n"
                                 f"{r.stdout}{r.stderr}")
            return r

        def head():
            return run("git", "rev-parse", "HEAD").stdout.strip()

        def commit(message):
            run("git", "add", "-A")
            return run("git", "commit", "-q", "-m", message, check=False)

        def write(text):
            with open(os.path.join(repo, "policy.bh"), "w") as f:
                f.write(text)

        run("git", "init", "-q", "-b", "main")
        run("git", "config", "user.email", "test@example.invalid")
        run("git", "config", "user.name", "test")
        run("git", "config", "commit.gpgsign", "false")
        with open(os.path.join(repo, ".pre-commit-config.yaml"), "w") as f:
            f.write(config)
        r = run("pre-commit", "install")
        print(r.stdout.strip())

        def attempt(label, message):
            r = commit(message)
            out = r.stdout + r.stderr
            print(f"{label}:", r.returncode, out)
            return r.returncode, out

        def escape_refused(code, out, before, where):
            if code == 0:
                failures.append(f"the commit opening an escape path {where} was accepted")
            if "assertion violated: web => vault" not in out:
                failures.append(f"the escape path web => vault {where} is not in the output")
            if before and head() != before:
                failures.append("HEAD moved although the commit was refused")

        # 1. A clean policy in the canonical layout: accepted.
        write(CLEAN)
        run(args.bulkhead, "fmt", "policy.bh")
        clean = open(os.path.join(repo, "policy.bh")).read()
        code, _ = attempt("clean commit", "a clean policy")
        if code != 0:
            failures.append("the clean commit was refused")
        first = head() if code == 0 else None

        # 2. A change that opens an escape path: refused by bulkhead-check, HEAD unchanged.
        write(ESCAPE)
        run(args.bulkhead, "fmt", "policy.bh")
        code, out = attempt("escape commit", "open an escape path")
        escape_refused(code, out, first, "in policy.bh")
        if "bulkhead check" not in out or "Failed" not in out:
            failures.append("bulkhead-check did not report the failure")

        # 3. Clean but not in the canonical layout: refused by bulkhead-fmt.
        write(clean.replace("qube web {", "qube   web  {"))
        code, out = attempt("unformatted commit", "badly laid out")
        if code == 0 or "bulkhead fmt --check" not in out:
            failures.append("bulkhead-fmt did not refuse an unformatted policy")

        # 4. A clean change: accepted.
        write(clean + "# reviewed\n")
        run(args.bulkhead, "fmt", "policy.bh")
        code, _ = attempt("clean change", "a clean change")
        if code != 0:
            failures.append("the clean change was refused")

        # 5. Two independent policies staged together: each is checked on its own
        #    (bulkhead check --each), so both clean ones are accepted...
        def write_other(text):
            with open(os.path.join(repo, "other.bh"), "w") as f:
                f.write(text.replace('policy "demo";', 'policy "other";'))
            run(args.bulkhead, "fmt", "other.bh")

        write_other(CLEAN)
        write(clean + "# two policies\n")
        code, _ = attempt("two policies", "two independent policies")
        if code != 0:
            failures.append("two independent clean policies were refused")

        # 6. ...and an escape path in one of them refuses the commit, naming that file.
        before = head()
        write_other(ESCAPE)
        write(clean + "# two policies, again\n")
        code, out = attempt("escape in one of two", "an escape path in the second policy")
        escape_refused(code, out, before, "in other.bh")
        if "other.bh" not in out:
            failures.append("the hook's output does not name other.bh")

    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
