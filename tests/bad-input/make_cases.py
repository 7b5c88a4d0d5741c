#!/usr/bin/env python3
"""Writes the malformed inputs of tests/bad-input/ (run once; the files are committed).
Inputs over 64 KiB are not committed: their cases.txt path starts with generated/, and
run_bad_inputs.py writes them at test time with `make_cases.py --large-into DIR`, which
writes only those (under DIR) and changes nothing in the repository.
Each case is a file or directory plus a line in cases.txt:
    KIND | PATH (relative to this directory) | MESSAGE (a substring of stderr)
KIND says how run_bad_inputs.py feeds it to bulkhead: dsl (check and compile), policyd
(audit --policy-dir), inventory, sysinfo, labels, nft (audit --nft-ruleset
sys-firewall=FILE), qvmfw (audit --qvm-firewall work=FILE). Every case must exit 2 with a file:line
position or the path, write nothing, and finish within the time limit."""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LARGE = 64 * 1024
LARGE_INTO = sys.argv[2] if len(sys.argv) == 3 and sys.argv[1] == "--large-into" else None
cases = []

GOOD_HEAD = ('policy "bad";\ntrust low = red < high = black;\ntemplate deb { trust high; }\n'
             'netvm sys-net { template deb; trust low; ip 10.137.0.5; }\n')


def write(rel, data, kind, message, large=None):
    data = data if isinstance(data, bytes) else data.encode()
    large = len(data) > LARGE if large is None else large
    if large:
        rel = "generated/" + rel
    if large == bool(LARGE_INTO):  # each mode writes only its own share
        path = os.path.join(LARGE_INTO, rel[len("generated/"):]) if large else os.path.join(HERE, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    cases.append((kind, rel, message))


def dsl(name, text, message):
    write(f"dsl/{name}.bh", text, "dsl", message)


# --- the DSL ---------------------------------------------------------------------------
workstation = open(os.path.join(HERE, "..", "..", "policies", "workstation.bh")).read()
for cut in (10, 100, 500, 1000, 2000, 3000, 4500, 6000, 8000, 10000):
    # Truncated mid-statement, as a copy cut short would be: after the next "-> " or "{"
    # that follows the cut (a cut inside a comment would leave a valid policy).
    at = min((i for i in (workstation.find(" -> ", cut), workstation.find(" {", cut)) if i >= 0),
             default=len(workstation) - 2)
    dsl(f"truncated-{cut}", workstation[:at + 3], "error[")
dsl("empty", "", "error[BH")
dsl("only-comment", "# nothing here\n", "error[BH")
dsl("binary-garbage", bytes(range(256)) * 4, "error[")
dsl("nul-bytes", GOOD_HEAD.encode() + b"qube a\x00 { trust low; }\n", "error[")
dsl("invalid-utf8-name", GOOD_HEAD.encode() + b"qube caf\xc3 { trust low; }\n", "error[")
dsl("invalid-utf8-comment", GOOD_HEAD.encode() + b"# \xff\xfe\n", "error[")
dsl("invalid-utf8-string", b'policy "\xff\xfe";\n', "error[")
dsl("overlong-utf8", GOOD_HEAD.encode() + b"qube \xc0\xaf { trust low; }\n", "error[")
dsl("lone-surrogate", GOOD_HEAD.encode() + b"# \xed\xa0\x80\n", "error[")
dsl("bom-then-garbage", b"\xef\xbb\xbf\x01\x02\x03", "error[")
dsl("unterminated-string", 'policy "never ends;\n', "error[")
dsl("unterminated-block", GOOD_HEAD + "qube a { trust low;\n", "error[")
dsl("deep-braces", GOOD_HEAD + "qube a " + "{" * 5000 + "}" * 5000 + "\n", "error[")
dsl("deep-open-braces", GOOD_HEAD + "{" * 20000 + "\n", "error[")
dsl("many-commas", GOOD_HEAD + "allow a -> " + ", " * 5000 + "b : tcp/1;\n", "error[")
dsl("huge-port", GOOD_HEAD + "service s = tcp/99999999999999999999;\n", "error[")
dsl("port-over-65535", GOOD_HEAD + "service s = tcp/65536;\n", "error[")
dsl("negative-port", GOOD_HEAD + "service s = tcp/-1;\n", "error[")
dsl("port-range-backwards", GOOD_HEAD + "service s = tcp/443-80;\n", "error[")
dsl("huge-prefix", GOOD_HEAD + "network n = 10.0.0.0/999999999999;\n", "error[")
dsl("prefix-33", GOOD_HEAD + "network n = 10.0.0.0/33;\n", "error[")
dsl("bad-ipv4", GOOD_HEAD + "network n = 10.0.0.256;\n", "error[")
dsl("bad-ipv6", GOOD_HEAD + "network n = fd09::zz;\n", "error[")
dsl("leading-zero-ipv4", GOOD_HEAD + "network n = 010.0.0.1;\n", "error[")
dsl("huge-icmp-type", GOOD_HEAD + "service s = icmp/256;\n", "error[")
dsl("unknown-keyword", GOOD_HEAD + "frobnicate a;\n", "error[")
dsl("unknown-token-char", GOOD_HEAD + "qube a { trust low; } $\n", "error[")
dsl("backtick", GOOD_HEAD + "`rm -rf /`\n", "error[")
dsl("unknown-trust", GOOD_HEAD + "qube a { template deb; trust nowhere; }\n", "error[BH")
dsl("unknown-template", GOOD_HEAD + "qube a { template nope; trust low; }\n", "error[BH")
dsl("unknown-netvm", GOOD_HEAD + "qube a { template deb; trust low; netvm nope; }\n", "error[BH")
dsl("duplicate-qube", GOOD_HEAD + "qube a { template deb; trust low; }\nqube a { template deb; trust low; }\n", "error[BH")
dsl("trust-cycle", 'policy "x";\ntrust a = red < b = black;\ntrust b < a;\n', "error[BH")
dsl("netvm-cycle", GOOD_HEAD + "firewall f1 { template deb; trust low; netvm f2; }\nfirewall f2 { template deb; trust low; netvm f1; }\n", "error[BH")
dsl("template-of-itself", GOOD_HEAD + "template t2 { template t2; trust high; }\n", "error[BH")
dsl("reserved-name", GOOD_HEAD + "qube none { template deb; trust low; }\n", "error[BH")
dsl("name-ending-dm", GOOD_HEAD + "qube web-dm { template deb; trust low; }\n", "error[BH")
dsl("name-too-long", GOOD_HEAD + "qube " + "a" * 40 + " { template deb; trust low; }\n", "error[BH")
dsl("name-100k", GOOD_HEAD + "qube " + "a" * 100000 + " { template deb; trust low; }\n", "error[BH")
dsl("rpc-bad-action", GOOD_HEAD + "rpc qubes.Gpg sys-net -> sys-net permit;\n", "error[")
dsl("rpc-service-slash", GOOD_HEAD + "rpc qubes/Gpg sys-net -> dom0 allow;\n", "error[")
dsl("rpc-bad-param", GOOD_HEAD + "rpc qubes.Gpg sys-net -> dom0 allow frobnicate=yes;\n", "error[")
dsl("rpc-notify-maybe", GOOD_HEAD + "rpc qubes.Gpg sys-net -> dom0 deny notify=maybe;\n", "error[")
dsl("rpc-default-source", GOOD_HEAD + "rpc qubes.Gpg @default -> dom0 allow;\n", "error[")
dsl("assert-no-because", GOOD_HEAD + "assert no path from sys-net to dom0 except rpc qubes.Gpg;\n", "error[BH")
dsl("assert-empty-reason", GOOD_HEAD + 'assert no path from sys-net to dom0 except rpc qubes.Gpg because "";\n', "error[BH")
dsl("flow-unknown-service", GOOD_HEAD + "network n = 1.2.3.4;\nallow sys-net -> n : nope;\n", "error[BH")
dsl("service-cycle", GOOD_HEAD + "service a = b;\nservice b = a;\n", "error[BH")
dsl("policy-twice", 'policy "a";\npolicy "b";\n', "error[")
dsl("no-policy-header", "trust low = red;\n", "error[BH")
dsl("crlf-garbage", b"policy \"x\";\r\n\r\r\r\x1b[31m\r\n", "error[")
dsl("control-chars", GOOD_HEAD + "qube a { template deb; trust low; }\x07\x08\x0b\n", "error[")
dsl("tab-soup", GOOD_HEAD + "\t" * 1000 + "qube\n", "error[")
dsl("ten-thousand-errors", GOOD_HEAD + "qube x { template nope; trust low; }\n" * 10000, "error[BH")
# A million-byte line of unknown names; the runner checks it ends quickly.
dsl("megabyte-line", GOOD_HEAD + "allow " + ", ".join(f"n{i}" for i in range(120000)) + " -> sys-net : tcp/1;\n", "error[BH")

# Imports: loops, missing, directories, symlink loops.
write("dsl/import-loop-a.bh", 'policy "x";\nimport "import-loop-b.bh";\n', "dsl", "error[BH")
write("dsl/import-loop-b.bh", 'import "import-loop-a.bh";\n', "dsl", "error[BH")
dsl("import-self", 'policy "x";\nimport "import-self.bh";\n', "error[BH")
dsl("import-missing", 'policy "x";\nimport "no-such-file.bh";\n', "error[BH")
dsl("import-directory", 'policy "x";\nimport "a-directory";\n', "error[BH")
if not LARGE_INTO:
    os.makedirs(os.path.join(HERE, "dsl", "a-directory"), exist_ok=True)
    with open(os.path.join(HERE, "dsl", "a-directory", ".keep"), "w") as f:
        f.write("")
dsl("import-dev-zero", 'policy "x";\nimport "/dev/zero";\n', "error[BH")
dsl("import-dev-urandom", 'policy "x";\nimport "/dev/urandom";\n', "error[BH")
for name, target in (("symlink-loop.bh", "symlink-loop.bh"),
                     ("symlink-loop-a.bh", "symlink-loop-b.bh"),
                     ("symlink-loop-b.bh", "symlink-loop-a.bh")):
    p = os.path.join(HERE, "dsl", name)
    if LARGE_INTO:
        continue
    if os.path.lexists(p):
        os.remove(p)
    os.symlink(target, p)
cases.append(("dsl", "dsl/symlink-loop.bh", "error[BH"))
cases.append(("dsl", "dsl/symlink-loop-a.bh", "error[BH"))
cases.append(("dsl", "dsl/a-directory", "error[BH"))
dsl("import-symlink-loop", 'policy "x";\nimport "symlink-loop.bh";\n', "error[BH")

# --- qrexec policy.d (audit --policy-dir DIR) ------------------------------------------
def policyd(name, files, message):
    # A directory is one case: generated whole when any of its files is large.
    large = any(len(t if isinstance(t, bytes) else t.encode()) > LARGE for t in files.values())
    for fname, text in files.items():
        write(f"policyd/{name}/{fname}", text, None, None, large)
        cases.pop()
    cases.append(("policyd", ("generated/" if large else "") + f"policyd/{name}", message))

policyd("wrong-field-count", {"30-a.policy": "qubes.Gpg * work\n"}, "wrong number of fields")
policyd("invalid-action", {"30-a.policy": "qubes.Gpg * work vault ALLOW\n"}, "invalid action")
policyd("service-plus", {"30-a.policy": "qubes.Gpg+x * work vault allow\n"}, "error[BH1007]")
policyd("argument-no-plus", {"30-a.policy": "qubes.Gpg x work vault allow\n"}, "error[BH1007]")
policyd("star-service-argument", {"30-a.policy": "* +x work vault allow\n"}, "error[BH1007]")
policyd("bad-source-token", {"30-a.policy": "qubes.Gpg * @default vault allow\n"}, "error[BH1007]")
policyd("bad-target-token", {"30-a.policy": "qubes.Gpg * work @nope allow\n"}, "error[BH1007]")
policyd("bad-param", {"30-a.policy": "qubes.Gpg * work vault allow frob=1\n"}, "error[BH1007]")
policyd("inline-comment", {"30-a.policy": "qubes.Gpg * work vault allow # why\n"}, "error[BH1007]")
policyd("deny-with-target", {"30-a.policy": "qubes.Gpg * work vault deny target=dom0\n"}, "error[BH1007]")
policyd("bad-notify", {"30-a.policy": "qubes.Gpg * work vault deny notify=maybe\n"}, "error[BH1007]")
policyd("include-missing", {"30-a.policy": "!include nothing-here\n"}, "error[BH1007]")
policyd("include-loop", {"30-a.policy": "!include include/b\n", "include/b": "!include include/b\n"}, "error[BH1007]")
# Each level includes the next twice: 2^30 reads if followed (Qubes never finishes).
policyd("include-bomb", {"30-a.policy": "!include include/a0\n",
                         **{f"include/a{i}": f"!include include/a{i + 1}\n" * 2 +
                            f"svc.X{i} * @anyvm @anyvm deny\n" for i in range(30)},
                         "include/a30": "svc.Leaf * @anyvm @anyvm deny\n"},
        "includes expand the policy beyond the loader's limit")
policyd("unknown-directive", {"30-a.policy": "!frobnicate x\n"}, "error[BH1007]")
policyd("binary-garbage", {"30-a.policy": bytes(range(256))}, "error[BH1007]")
policyd("invalid-utf8", {"30-a.policy": b"qubes.Gpg * w\xff vault allow\n"}, "error[BH1007]")
policyd("several-errors", {"30-a.policy": "a\nb b b b b b\n", "40-b.policy": "qubes.Gpg * x y maybe\n"}, "40-b.policy:1")
policyd("megabyte-line", {"30-a.policy": "qubes.Gpg * work vault " + "allow" * 200000 + "\n"}, "error[BH1007]")

# --- inventory (audit --inventory FILE) ------------------------------------------------
def inventory(name, text, message):
    write(f"inventory/{name}.txt", text, "inventory", message)

inventory("too-few-fields", "work|AppVM|blue\n", "error[BH0111]")
inventory("too-many-fields", "work|AppVM|blue|t|n|1.2.3.4|-|-|False|False|extra\n", "error[BH0111]")
inventory("bad-label", "work|AppVM|pink|-|-|-|-|-|False|False\n", "error[BH0111]")
inventory("bad-ip", "work|AppVM|red|-|-|10.0.0.999|-|-|False|False\n", "error[BH0111]")
inventory("unknown-template", "work|AppVM|red|nope|-|-|-|-|False|False\n", "error[BH0111]")
inventory("unknown-netvm", "work|AppVM|red|-|nope|-|-|-|False|False\n", "error[BH0111]")
inventory("binary-garbage", bytes(range(1, 256)) * 3, "error[BH0111]")
inventory("megabyte-line", "|" * 1_000_000 + "\n", "error[BH0111]")

# --- system info (audit --system-info FILE) --------------------------------------------
def sysinfo(name, text, message):
    write(f"sysinfo/{name}.json", text, "sysinfo", message)

sysinfo("not-json", "{domains: [", "error[BH0111]")
sysinfo("array", "[1, 2, 3]", "error[BH0111]")
sysinfo("no-domains", '{"other": {}}', "error[BH0111]")
sysinfo("domains-not-object", '{"domains": [1]}', "error[BH0111]")
sysinfo("entry-not-object", '{"domains": {"work": 5}}', "error[BH0111]")
sysinfo("bad-label", '{"domains": {"work": {"type": "AppVM", "label": "pink"}}}', "error[BH0111]")
sysinfo("deep-nesting", '{"domains": ' + "[" * 100000 + "]" * 100000 + "}", "error[BH0111]")
sysinfo("huge-number", '{"domains": {"work": {"label": 1e999999}}}', "error[BH0111]")
sysinfo("empty", "", "error[BH0111]")
# Found by fuzz_inventory: a field of another JSON type threw out of the parser (a crash).
sysinfo("flag-is-object", '{"domains": {"work": {"label": "red", "template_for_dispvms": {"goto": 1}}}}', "is not true or false")
sysinfo("label-is-number", '{"domains": {"work": {"label": 5}}}', "\"label\" is not a string")
sysinfo("tags-is-string", '{"domains": {"work": {"label": "red", "tags": "a,b"}}}', "\"tags\" is not an array")
# 60,000 qubes, the last one wrong: pointing each entry at its line searched the text once per
# entry (96 s); one pass now. Its line must still be found (the last entry's).
sysinfo("many-qubes", '{"domains": {\n' + "".join(f' "q{i:05d}": {{"type": "AppVM"}},\n'
        for i in range(60000)) + ' "q60000": {"label": 5}\n}}\n', "many-qubes.json:60002:1")

# --- label order (audit --labels FILE) -------------------------------------------------
def labels(name, text, message):
    write(f"labels/{name}.txt", text, "labels", message)

labels("unknown-label", "red < pink\n", "error[BH0111]")
labels("cycle", "red < blue\nblue < red\n", "error[BH0111]")
labels("self-cycle", "red < red\n", "error[BH0111]")
labels("dangling-less", "red <\n", "error[BH0111]")
labels("binary", bytes(range(1, 128)), "error[BH0111]")

# --- nft ruleset (audit --nft-ruleset sys-firewall=FILE) --------------------------------
def nft(name, text, message):
    write(f"nft/{name}.json", text, "nft", message)

nft("not-json", '{"nftables": [ {"table": ', "error[BH0112]")
nft("empty", "", "error[BH0112]")
nft("plain-text", "table ip qubes {\n}\n", "error[BH0112]")
nft("no-nftables-key", '{"other": []}', "error[BH0112]")
nft("nftables-not-array", '{"nftables": {"chain": 1}}', "error[BH0112]")
nft("item-not-object", '{"nftables": [1, 2]}', "error[BH0112]")
nft("rule-before-chain", '{"nftables": [{"rule": {"family": "ip", "table": "t", "chain": "c", '
    '"expr": []}}, {"chain": {"family": "ip", "table": "t", "name": "c"}}]}',
    "a rule of chain c comes before the chain")
nft("chain-without-name", '{"nftables": [{"chain": {"family": "ip", "table": "t"}}]}',
    "error[BH0112]")
nft("bad-set-element", '{"nftables": [{"set": {"family": "ip", "table": "t", "name": "s", '
    '"type": "ipv4_addr", "elem": ["10.0.0.999"]}}]}', "error[BH0112]")
nft("deep-nesting", '{"nftables": [' + "[" * 100000 + "]" * 100000 + "]}", "error[BH0112]")
nft("deep-elements", '{"nftables": [{"set": {"family": "ip", "table": "t", "name": "s", '
    '"elem": [' + '{"elem": {"val": ' * 50 + '"10.0.0.1"' + "}}" * 50 + "]}}]}", "error[BH0112]")
nft("binary-garbage", bytes(range(256)) * 4, "error[BH0112]")
# A number past double's range: nlohmann throws out_of_range, not parse_error (fuzz_nft_json).
nft("number-overflow", '{"nftables": [{"metainfo": {"json_schema_version": 1' + "0" * 400 + '}}]}',
    "not JSON")
# Numbers nlohmann would cast unchecked (undefined for a float past the type's range).
nft("prefix-length-float", '{"nftables": [{"set": {"family": "ip", "table": "t", "name": "s", '
    '"type": "ipv4_addr", "flags": ["interval"], '
    '"elem": [{"prefix": {"addr": "10.0.0.0", "len": 7.7e93}}]}}]}', "prefix length")
nft("priority-float", '{"nftables": [{"chain": {"family": "ip", "table": "t", "name": "c", '
    '"hook": "input", "prio": 1e30}}]}', '"prio" is not an integer')

# --- qvm-firewall rules (audit --qvm-firewall work=FILE) -------------------------------
def qvmfw(name, text, message):
    write(f"qvmfw/{name}.rules", text, "qvmfw", message)

qvmfw("no-action", "proto=tcp dst4=10.0.0.0/8\n", "error[BH0112]")
qvmfw("bad-action", "action=allow\n", "error[BH0112]")
qvmfw("bad-proto", "action=accept proto=sctp\n", "error[BH0112]")
qvmfw("ports-backwards", "action=accept proto=tcp dstports=443-80\n", "error[BH0112]")
qvmfw("port-too-big", "action=accept proto=tcp dstports=70000\n", "error[BH0112]")
qvmfw("icmptype-without-icmp", "action=accept proto=tcp icmptype=8\n", "error[BH0112]")
qvmfw("icmptype-too-big", "action=accept proto=icmp icmptype=256\n", "error[BH0112]")
qvmfw("bad-address", "action=accept dst4=10.0.0.999/8\n", "error[BH0112]")
qvmfw("v6-in-dst4", "action=accept dst4=fd09::1\n", "error[BH0112]")
qvmfw("bad-hostname", "action=accept dsthost=EXAMPLE.com;rm\n", "error[BH0112]")
qvmfw("two-destinations", "action=accept dst4=10.0.0.1 dsthost=example.com\n", "error[BH0112]")
qvmfw("duplicate-option", "action=accept action=drop\n", "error[BH0112]")
qvmfw("unknown-option", "action=accept frobnicate=1\n", "error[BH0112]")
qvmfw("not-key-value", "accept tcp\n", "error[BH0112]")
qvmfw("special-target", "action=accept specialtarget=ntp\n", "error[BH0112]")
qvmfw("several-errors", "action=accept\naction=maybe\naction=accept proto=x\n", "several-errors.rules:3")
qvmfw("binary-garbage", bytes(range(1, 256)) * 3, "error[BH0112]")
qvmfw("megabyte-line", "action=accept " + "x" * 1_000_000 + "\n", "error[BH0112]")

if LARGE_INTO:
    sys.exit(0)
with open(os.path.join(HERE, "cases.txt"), "w") as f:
    f.write("# KIND | PATH | MESSAGE (written by make_cases.py; see run_bad_inputs.py)\n")
    for kind, rel, message in cases:
        f.write(f"{kind} | {rel} | {message}\n")
print(f"{len(cases)} cases")
