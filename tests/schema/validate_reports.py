#!/usr/bin/env python3
"""Runs bulkhead with --format json and --format sarif on real inputs and validates every
document against its schema: docs/report-schema.json (check, compile, audit),
docs/diff-schema.json (diff) and the official SARIF 2.1.0 schema
in ../shared/schemas (when present beside the checkout; otherwise SARIF is checked
against the structural minimum only and the script says so).

Usage: validate_reports.py BULKHEAD SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema


def run(bulkhead, args):
    p = subprocess.run([bulkhead] + args, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout


def reports(bulkhead, cases):
    """Each case in both formats: (args, format, exit code, document), the code as expected."""
    for args, expected in cases:
        for fmt in ("json", "sarif"):
            code, out = run(bulkhead, args + ["--format", fmt])
            if code != expected:
                sys.exit(f"{' '.join(args)} --format {fmt}: exit {code}, expected {expected}")
            yield args, fmt, code, json.loads(out)


def check_sarif(doc, schema, args):
    if schema is not None:
        jsonschema.validate(doc, schema)
    if doc["version"] != "2.1.0" or len(doc["runs"]) != 1:
        sys.exit(f"{args}: not one SARIF 2.1.0 run")
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    for r in doc["runs"][0]["results"]:
        if rules[r["ruleIndex"]]["id"] != r["ruleId"]:
            sys.exit(f"{args}: ruleIndex does not point at {r['ruleId']}")


def main():
    bulkhead, src = sys.argv[1], sys.argv[2]
    report_schema = json.load(open(os.path.join(src, "docs", "report-schema.json")))
    diff_schema = json.load(open(os.path.join(src, "docs", "diff-schema.json")))
    sarif_path = os.path.join(src, "..", "shared", "schemas", "sarif-schema-2.1.0.json")
    sarif_schema = json.load(open(sarif_path)) if os.path.exists(sarif_path) else None
    if sarif_schema is None:
        print("NOTE: ../shared/schemas/sarif-schema-2.1.0.json not found; SARIF checked "
              "structurally only")

    tmp = tempfile.mkdtemp()
    bad = os.path.join(tmp, "bad.bh")
    with open(bad, "w") as f:
        f.write("policy \"x\";\nqube a { trust nowhere; }\n")
    seeded = os.path.join(tmp, "seeded.bh")
    with open(os.path.join(src, "policies", "workstation.bh")) as f:
        text = f.read()
    at = text.index("\nrpc ") + 1  # before the first rpc rule, so first match sees it
    with open(seeded, "w") as f:
        f.write(text[:at] + "rpc qubes.VMShell personal -> vault allow;\n" + text[at:])
    # A broad line a requirement needs: its repair is an inserted deny (an insertion).
    narrowed = os.path.join(tmp, "narrowed.bh")
    with open(narrowed, "w") as f:
        f.write("policy \"n\";\ntrust low = red < high = blue;\ntemplate tpl { trust high; }\n"
                "qube a { template tpl; trust low; }\nqube b { template tpl; trust low; }\n"
                "qube c { template tpl; trust high; }\n"
                "rpc qubes.Filecopy @anyvm -> c allow;\n"
                "assert no path from a to c;\nrequire rpc qubes.Filecopy b -> c;\n")
    examples = sorted(os.path.join(src, "policies", p)
                      for p in os.listdir(os.path.join(src, "policies")) if p.endswith(".bh"))
    cases = [(["check", "--no-baseline", p], 0) for p in examples]
    cases += [(["check", "--no-baseline", seeded], 1),
              (["check", "--no-baseline", narrowed], 1),
              (["check", "--no-baseline", os.path.join(src, "tests", "data", "design-sketch.bh")], 1),
              (["check", "--no-baseline", bad], 2),
              (["compile", "--no-baseline", seeded, "-o", os.path.join(tmp, "out")], 1),
              (["compile", "--no-baseline", examples[0], "-o", os.path.join(tmp, "out2")], 0)]
    corpus = os.path.join(src, "..", "shared", "corpus")
    if os.path.exists(os.path.join(corpus, "qubes-inventory.txt")):
        cases += [(["audit", "--policy-dir", os.path.join(corpus, "qubes-policy", "policy.d"),
                    "--legacy-dir", os.path.join(corpus, "qubes-policy", "legacy"),
                    "--inventory", os.path.join(corpus, "qubes-inventory.txt")], 1)]
        # Firewall state too: sys-firewall's live ruleset, and a qvm-firewall list for work
        # that opens DNS and differs from what sys-firewall enforces.
        rules = os.path.join(tmp, "work.rules")
        with open(rules, "w") as f:
            f.write("action=accept proto=tcp dst4=192.168.1.0/24 dstports=443-443\n"
                    "action=accept proto=udp dstports=53-53\n")
        firewall = ["audit", "--policy-dir", os.path.join(corpus, "qubes-policy", "policy.d"),
                    "--legacy-dir", os.path.join(corpus, "qubes-policy", "legacy"),
                    "--inventory", os.path.join(corpus, "qubes-inventory.txt"),
                    "--nft-ruleset", "sys-firewall=" +
                    os.path.join(corpus, "qubes-nft", "sys-firewall-live.json"),
                    "--qvm-firewall", "work=" + rules]
        cases += [(firewall, 1)]
        code, out = run(bulkhead, firewall + ["--format", "json"])
        codes = {d["code"] for d in json.loads(out)["diagnostics"]}
        if not {"BH1309", "BH1312"} <= codes:
            sys.exit(f"the firewall audit lacks its findings: {sorted(codes)}")

    workstation = os.path.join(src, "policies", "workstation.bh")
    closed = os.path.join(tmp, "closed.bh")
    with open(closed, "w") as f:
        f.write(text.replace("allow personal -> internet : http;\n", ""))
    # The old side from git: a throw-away repository holding workstation.bh, then seeded.
    repo = os.path.join(tmp, "repo")
    os.makedirs(os.path.join(repo, "policies"))
    with open(os.path.join(repo, "policies", "workstation.bh"), "w") as f:
        f.write(text)
    git_env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1",
                   GIT_CONFIG_GLOBAL=os.path.join(tmp, "gitconfig"))
    for cmd in (["init", "-q"], ["add", "-A"],
                ["-c", "user.name=t", "-c", "user.email=t@example.invalid",
                 "commit", "-q", "-m", "base"]):
        subprocess.run(["git", "-C", repo] + cmd, check=True, env=git_env)
    with open(os.path.join(repo, "policies", "workstation.bh"), "w") as f:
        f.write(text[:at] + "rpc qubes.VMShell personal -> vault allow;\n" + text[at:])
    diffs = [(["diff", "--no-baseline", workstation, workstation], 0),
             (["diff", "--no-baseline", workstation, seeded], 1),
             (["diff", "--no-baseline", workstation, closed], 0),
             (["diff", "--no-baseline", closed, workstation], 0),
             (["diff", "--no-baseline", "--git", "HEAD", os.path.join(repo, "policies")], 1)]

    checked = 0
    witnesses = 0
    anchored = 0
    for args, fmt, code, doc in reports(bulkhead, diffs):
        if fmt == "json":
            jsonschema.validate(doc, diff_schema)
            if doc["exit_code"] != code or doc["semantic_change"] != bool(doc["changes"]):
                sys.exit(f"{args}: the report disagrees with the run")
        else:
            check_sarif(doc, sarif_schema, args)
            anchored += sum(1 for r in doc["runs"][0]["results"] if "locations" in r)
        checked += 1
    if anchored == 0:
        sys.exit("no diff SARIF result was anchored to a policy line")

    for args, fmt, code, doc in reports(bulkhead, cases):
        if fmt == "json":
            jsonschema.validate(doc, report_schema)
            if doc["exit_code"] != code:
                sys.exit(f"{args}: report says exit {doc['exit_code']}, process {code}")
            witnesses += sum(1 for d in doc["diagnostics"] if d["witness"])
        else:
            check_sarif(doc, sarif_schema, args)
        checked += 1
    # The seeded violation must come with its path, in both formats.
    code, out = run(bulkhead, ["check", "--no-baseline", seeded, "--format", "sarif"])
    flows = [r for r in json.loads(out)["runs"][0]["results"] if "codeFlows" in r]
    if not flows:
        sys.exit("the seeded escape path has no SARIF code flow")
    if witnesses == 0:
        sys.exit("no JSON diagnostic carried a witness")
    # ... and with its repair: removing the seeded line (SARIF fixes, JSON fixes).
    fixes = [f for r in flows for f in r.get("fixes", [])]
    if not fixes:
        sys.exit("the seeded escape path has no SARIF fix")
    code, out = run(bulkhead, ["check", "--no-baseline", seeded, "--format", "json"])
    # One repair for all the violations it causes: the same edits on each.
    repairs = [f["edits"] for d in json.loads(out)["diagnostics"] for f in d.get("fixes", [])]
    if not repairs or any(r != repairs[0] for r in repairs):
        sys.exit(f"the seeded violations do not share one repair: {repairs}")
    edits = repairs[0]
    if [e["action"] for e in edits] != ["delete"] or edits[0]["location"]["line"] != \
            text[:at].count("\n") + 1:
        sys.exit(f"the seeded escape path's repair is not the seeded line: {edits}")
    code, out = run(bulkhead, ["check", "--no-baseline", narrowed, "--format", "sarif"])
    inserts = [rep for r in json.loads(out)["runs"][0]["results"] for f in r.get("fixes", [])
               for c in f["artifactChanges"] for rep in c["replacements"]
               if "insertedContent" in rep]
    if not inserts or inserts[0]["deletedRegion"]["startColumn"] != \
            inserts[0]["deletedRegion"]["endColumn"]:
        sys.exit(f"the narrowed policy's repair is not an insertion: {inserts}")
    print(f"{checked} reports valid ({witnesses} JSON witnesses, {len(flows)} SARIF code flows, "
          f"{len(fixes)} SARIF fixes, {anchored} anchored diff results)")


if __name__ == "__main__":
    main()
