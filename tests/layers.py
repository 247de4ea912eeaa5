"""The include rules of modules/: each layer includes only its own headers and those of the
layers its README names ("May include:"), none of the system headers it names under "Must
not include:", and no header includes itself through others. Run by `make check`."""

import os
import re
import sys

TOP = os.environ.get("TOP_SRCDIR") or os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                                   ".."))
MODULES = os.path.join(TOP, "modules")
OURS = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SYSTEM = re.compile(r'^\s*#\s*include\s+<([^>]+)>', re.M)


def rules():
    """{layer: (allowed layers, forbidden system headers)} from each folder's README."""
    out = {}
    for layer in sorted(os.listdir(MODULES)):
        readme = os.path.join(MODULES, layer, "README")
        if not os.path.isfile(readme):
            continue
        text = open(readme).read()
        may = re.search(r"^May include:(.*)$", text, re.M)
        if not may:
            sys.exit("%s: no 'May include:' line" % readme)
        allowed = {w.strip() for w in may.group(1).split(",") if re.match(r"^\s*\w+\s*$", w)}
        banned = re.search(r"^Must not include:(.*)$", text, re.M)
        out[layer] = (allowed | {layer}, set(banned.group(1).split()) if banned else set())
    return out


def sources():
    for layer in sorted(os.listdir(MODULES)):
        d = os.path.join(MODULES, layer)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if f.endswith((".c", ".h")):
                    yield layer, layer + "/" + f, open(os.path.join(d, f)).read()


def main():
    layers = rules()
    problems = []
    graph = {}
    count = 0
    for layer, name, text in sources():
        count += 1
        if layer not in layers:
            problems.append("%s: layer %s has no README saying what it may include" % (name, layer))
            continue
        allowed, banned = layers[layer]
        graph[name] = []
        for inc in OURS.findall(text):
            if inc == "auto_config.h":
                continue
            target = inc.split("/")[0] if "/" in inc else None
            if target is None:
                problems.append("%s includes \"%s\": name our headers with their layer" %
                                (name, inc))
            elif target not in allowed:
                problems.append("%s (%s) includes %s: %s may include only %s" %
                                (name, layer, inc, layer, ", ".join(sorted(allowed))))
            if name.endswith(".h"):
                graph[name].append(inc)
        for inc in SYSTEM.findall(text):
            if inc in banned:
                problems.append("%s (%s) includes <%s>, which %s must not" %
                                (name, layer, inc, layer))

    # No header reaches itself through its includes.
    state = {}

    def visit(h, stack):
        if state.get(h) == "done":
            return
        if state.get(h) == "active":
            problems.append("include cycle: " + " -> ".join(stack[stack.index(h):] + [h]))
            return
        state[h] = "active"
        for n in graph.get(h, []):
            visit(n, stack + [h])
        state[h] = "done"

    for h in sorted(graph):
        if h.endswith(".h"):
            visit(h, [])

    for p in problems:
        print("layers: " + p)
    print("layers: %d files in %d layers, %d problems" % (count, len(layers), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
