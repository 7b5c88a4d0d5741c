#!/usr/bin/env python3
"""The man page and the bash completion cannot drift from the command line: docs/bulkhead.1
renders with groff -ww without a warning, and every subcommand and every option that
`bulkhead --help` and `bulkhead SUBCOMMAND --help` list appears in the man page and in
scripts/bulkhead-completion.bash (for a subcommand's option: in that subcommand's list).

Usage: check_cli_docs.py BULKHEAD SOURCE_DIR"""
import re
import subprocess
import sys


def help_text(bulkhead, args):
    p = subprocess.run([bulkhead] + args + ["--help"], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        sys.exit(f"bulkhead {' '.join(args)} --help exited {p.returncode}")
    return p.stdout


def section(text, title):
    """The indented lines under a CLI11 help heading such as 'OPTIONS:' or 'SUBCOMMANDS:'."""
    lines, inside = [], False
    for line in text.splitlines():
        if re.match(r"^[A-Za-z ]+:\s*$", line):
            inside = line.strip().rstrip(":").lower() == title
            continue
        if inside and line.startswith(" "):
            lines.append(line)
    return lines


def options(text):
    found = set()
    for line in section(text, "options"):
        m = re.match(r"^\s+((?:-[-\w]+,?)+)", line)
        if m:
            found.update(o for o in m.group(1).split(",") if o)
    return found


def main():
    bulkhead, src = sys.argv[1], sys.argv[2]
    failures = []
    groff = subprocess.run(["groff", "-ww", "-man", "-Tutf8", f"{src}/docs/bulkhead.1"],
                           capture_output=True, text=True)
    if groff.returncode != 0 or groff.stderr.strip():
        failures.append(f"groff -ww warns about docs/bulkhead.1:\n{groff.stderr}")
    # The man page's source with groff's escaped hyphens as typed.
    man = open(f"{src}/docs/bulkhead.1").read().replace("\\-", "-")
    completion = open(f"{src}/scripts/bulkhead-completion.bash").read()
    commands = re.search(r'local commands="([^"]*)"', completion)
    completed = set(commands.group(1).split()) if commands else set()

    top = help_text(bulkhead, [])
    subcommands = [l.split()[0] for l in section(top, "subcommands") if l.split()]
    if not subcommands:
        failures.append("bulkhead --help lists no subcommands")
    for o in options(top) - {"-h"}:
        if o not in man:
            failures.append(f"global option {o} is not in the man page")
    checked = 0
    for sub in subcommands:
        if not re.search(r'^\.SS "' + re.escape(sub) + r"\b", man, re.M):
            failures.append(f"subcommand {sub} has no section in the man page")
        if sub not in completed:
            failures.append(f"subcommand {sub} is not completed")
        listed = re.search(r"^\s*" + re.escape(sub) + r'\) opts="([^"]*)"', completion, re.M)
        sub_opts = set(listed.group(1).split()) if listed else set()
        if not listed:
            failures.append(f"the completion has no option list for {sub}")
        for o in sorted(options(help_text(bulkhead, [sub])) - {"-h"}):
            checked += 1
            if not re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])", man):
                failures.append(f"{sub} {o} is not in the man page")
            if o not in sub_opts:
                failures.append(f"{sub} {o} is not in the completion's list for {sub}")
    for f in failures:
        print("FAILED:", f)
    if not failures:
        print(f"man page renders cleanly; {len(subcommands)} subcommands and {checked} options "
              "documented and completed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
