"""The policy as Bulkhead's model states it: qubes, networks and flows read from
`bulkhead check --show-model`, and packet verdicts asked of `bulkhead explain --batch`.
Nothing here reads the emitted rulesets: the harness compares the kernel with this."""
import re
import subprocess
from dataclasses import dataclass, field

PROVIDER_KINDS = {"netvm", "firewall", "vpn"}


@dataclass
class Qube:
    kind: str
    name: str
    netvm: str = "none"
    ip: str = ""
    tags: list = field(default_factory=list)


@dataclass
class Flow:
    verdict: str  # allow or deny
    sources: list  # endpoint words: qube, @tag:x, network, prefix
    destinations: list
    services: list  # (proto, low, high); proto "any" means every protocol
    text: str


@dataclass
class Policy:
    path: str
    qubes: dict = field(default_factory=dict)
    networks: dict = field(default_factory=dict)  # name -> [prefix text]
    services: dict = field(default_factory=dict)  # name -> [(proto, low, high)]
    flows: list = field(default_factory=list)

    def providers(self):
        return [q for q in self.qubes.values() if q.kind in PROVIDER_KINDS]

    def tagged(self, tag):
        return [q.name for q in self.qubes.values() if tag in q.tags]


def _match(word):
    """'tcp/443', 'udp/2379-2380', 'icmp', 'icmp/8' -> (proto, low, high)."""
    proto, _, ports = word.partition("/")
    if not ports:
        return (proto, 0, 65535 if proto != "icmp" else 255)
    low, _, high = ports.partition("-")
    return (proto, int(low), int(high or low))


def _words(text):
    return [w for w in re.split(r"[,\s]+", text.strip()) if w]


def load(bulkhead, policy_path):
    out = subprocess.run([bulkhead, "check", "--no-baseline", "--show-model", policy_path],
                         capture_output=True, text=True, timeout=120).stdout
    p = Policy(policy_path)
    for line in out.splitlines():
        m = re.match(r"^(\S+) (\S+) \{ (.*) \}$", line)
        if m and m.group(1) not in ("policy", "trust"):
            q = Qube(m.group(1), m.group(2))
            for prop in m.group(3).split(";"):
                key, _, value = prop.strip().partition(" ")
                if key == "netvm":
                    q.netvm = value
                elif key == "ip":
                    q.ip = value.split()[0]
                elif key == "tags":
                    q.tags = value.split()
            p.qubes[q.name] = q
            continue
        m = re.match(r"^network (\S+) = (.*)$", line)
        if m:
            p.networks[m.group(1)] = m.group(2).split()
            continue
        m = re.match(r"^service (\S+) = (.*?)( data \w+)?$", line)
        if m:
            p.services[m.group(1)] = [_match(w) for w in m.group(2).split()]
            continue
        m = re.match(r"^(allow|deny) (.*) -> (.*) : (.*)$", line)
        if m:
            services = []
            for w in _words(m.group(4)):
                if w == "any":
                    services.append(("any", 0, 65535))
                elif w in p.services:
                    services += p.services[w]
                else:
                    services.append(_match(w))
            p.flows.append(Flow(m.group(1), _words(m.group(2)), _words(m.group(3)), services, line))
    return p


@dataclass
class Verdict:
    permitted: bool
    explanation: str  # explain's whole answer: the allow and deny lines that match


def decide(bulkhead, policy_path, questions):
    """questions: [(source, destination address, proto, port)] -> [Verdict], in order."""
    text = "".join(f"{s} -> {d} {proto}/{port}\n" for s, d, proto, port in questions)
    done = subprocess.run([bulkhead, "explain", "--no-baseline", policy_path, "--batch", "-"],
                          input=text, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"bulkhead explain --batch failed: {done.stderr.strip()}")
    answers = []
    for line in done.stdout.splitlines():
        if line.startswith(" "):
            answers[-1].append(line)
        else:
            answers.append([line])
    if len(answers) != len(questions):
        raise RuntimeError(f"{len(questions)} questions, {len(answers)} answers")
    verdicts = []
    for (s, d, proto, port), lines in zip(questions, answers):
        head = f"{proto}/{port} from {s} to {d}: "
        if not lines[0].startswith(head):
            raise RuntimeError(f"answer out of order: {lines[0]!r} for {head!r}")
        verdicts.append(Verdict(lines[0][len(head):] == "permitted", "\n".join(lines)))
    return verdicts
