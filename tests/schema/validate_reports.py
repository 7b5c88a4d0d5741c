#!/usr/bin/env python3
"""Runs bulkhead with --format json and --format sarif on real inputs and validates every
document against its schema: docs/report-schema.json and the official SARIF 2.1.0 schema
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


def main():
    bulkhead, src = sys.argv[1], sys.argv[2]
    report_schema = json.load(open(os.path.join(src, "docs", "report-schema.json")))
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

    checked = 0
    witnesses = 0
    for args, expected in cases:
        for fmt in ("json", "sarif"):
            code, out = run(bulkhead, args + ["--format", fmt])
            if code != expected:
                sys.exit(f"{' '.join(args)} --format {fmt}: exit {code}, expected {expected}")
            doc = json.loads(out)
            if fmt == "json":
                jsonschema.validate(doc, report_schema)
                if doc["exit_code"] != code:
                    sys.exit(f"{args}: report says exit {doc['exit_code']}, process {code}")
                witnesses += sum(1 for d in doc["diagnostics"] if d["witness"])
            else:
                if sarif_schema is not None:
                    jsonschema.validate(doc, sarif_schema)
                if doc["version"] != "2.1.0" or len(doc["runs"]) != 1:
                    sys.exit(f"{args}: not one SARIF 2.1.0 run")
                for r in doc["runs"][0]["results"]:
                    rules = doc["runs"][0]["tool"]["driver"]["rules"]
                    if rules[r["ruleIndex"]]["id"] != r["ruleId"]:
                        sys.exit(f"{args}: ruleIndex does not point at {r['ruleId']}")
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
          f"{len(fixes)} SARIF fixes)")


if __name__ == "__main__":
    main()
