#!/usr/bin/env python3
"""Checks the include layout of the gateway's sources; exits 1 with the reasons.

What it holds to (issue #16): the modules of gateway/ (daemon), gateway/cli/
(the crew's CLI), gateway/config/ (the loader) and sensors/ (codec, point)
include one another one way only, so that each can be read, tested and
changed from the bottom up:

  - no cycle in the include graph (a module is X.c with X.h; X includes Y when
    X.c or X.h says #include "Y.h");
  - no daemon file (gateway/*, gateway/config/*) includes a gateway/cli header;
  - the loader (gateway/config/*) includes no daemon or CLI header;
  - the codec and the point (sensors/*.c, sensors/*.h) include no gateway header.

A quoted include is found as the compiler finds it: next to the including
file first, then in gateway/, gateway/config/, sensors/, gateway/cli/.

Usage: check_layout.py [SOURCE_DIR]     (default: this file's ../..)
       check_layout.py --self-test      (proves the check fails on a bad tree)
"""
import os
import re
import sys
import tempfile

FOLDERS = ["gateway", "gateway/config", "sensors", "gateway/cli"]  # also the search order
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def source_files(root):
    for folder in FOLDERS:
        path = os.path.join(root, folder)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            if name.endswith((".c", ".h")) and os.path.isfile(os.path.join(path, name)):
                yield folder + "/" + name


def resolve(root, including, header):
    """The tree-relative path the compiler would open for #include "header", or None."""
    for folder in [os.path.dirname(including)] + FOLDERS:
        candidate = os.path.normpath(folder + "/" + header)
        if os.path.isfile(os.path.join(root, candidate)):
            return candidate
    return None  # a system or generated header: not ours to judge


PRIVATE_SUFFIX = "_internal"


def module_of(path):
    """X.c and X.h are module X; X_internal.h is X's private header, part of it."""
    module = os.path.splitext(path)[0]
    if module.endswith(PRIVATE_SUFFIX) and path.endswith(".h"):
        module = module[:-len(PRIVATE_SUFFIX)]
    return module


def may_include_private(path, owner):
    """A module's private header is for its own files: X.c and X_*.c beside it."""
    name = os.path.splitext(path)[0]
    return name == owner or name.startswith(owner + "_")


def folder_of(path):
    return os.path.dirname(path)


def read_includes(root):
    """[(including file, line number, header as written, resolved path)]"""
    found = []
    for path in source_files(root):
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as source:
            text = source.read()
        for match in INCLUDE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            resolved = resolve(root, path, match.group(1))
            if resolved:
                found.append((path, line, match.group(1), resolved))
    return found


def layer_violations(includes):
    problems = []
    for path, line, header, resolved in includes:
        where = "%s:%d includes \"%s\" (%s)" % (path, line, header, resolved)
        source, target = folder_of(path), folder_of(resolved)
        owner = module_of(resolved)
        if resolved.endswith(PRIVATE_SUFFIX + ".h") and not may_include_private(path, owner):
            problems.append("private header included outside its module: " + where +
                            "; other modules read %s through %s.h" % (owner, owner))
        elif source in ("gateway", "gateway/config") and target == "gateway/cli":
            problems.append("daemon file includes a CLI header: " + where +
                            "; the daemon must not depend on the crew's CLI")
        elif source == "gateway/config" and target == "gateway":
            problems.append("loader includes a daemon header: " + where +
                            "; gateway/config sits below the daemon and the CLI")
        elif source == "sensors" and target.startswith("gateway"):
            problems.append("codec or point includes a gateway header: " + where +
                            "; sensors/ knows points and registers, nothing of the gateway")
    return problems


def strongly_connected(graph):
    """Tarjan's components of more than one module, each sorted."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def one_cycle(graph, component):
    """A shortest path from the component's first module back to itself."""
    members = set(component)
    start = component[0]
    previous = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(graph.get(node, ())):
                if successor == start:
                    path = [node]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])
                    return list(reversed(path)) + [start]
                if successor in members and successor not in previous:
                    previous[successor] = node
                    following.append(successor)
        frontier = following
    return component + [start]


def cycle_problems(includes):
    graph, evidence = {}, {}
    for path, line, header, resolved in includes:
        source, target = module_of(path), module_of(resolved)
        if source == target:
            continue
        graph.setdefault(source, set()).add(target)
        evidence.setdefault((source, target), "%s:%d" % (path, line))
    problems = []
    for component in strongly_connected(graph):
        cycle = one_cycle(graph, component)
        steps = ", ".join("%s -> %s (%s)" % (a, b, evidence[(a, b)])
                          for a, b in zip(cycle, cycle[1:]))
        problems.append("include cycle among {%s}: %s; make one of these includes go the "
                        "other way (move the shared type down, or pass a callback up)"
                        % (", ".join(component), steps))
    return problems


def check(root):
    includes = read_includes(root)
    if not includes:
        return ["no sources found under %s (gateway/*.c): wrong folder?" % root]
    return layer_violations(includes) + cycle_problems(includes)


def self_test():
    """A tree with each kind of fault must fail; the same tree without them must pass."""
    with tempfile.TemporaryDirectory() as root:
        def write(path, text):
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as out:
                out.write(text)
        write("gateway/low.h", "#include \"config.h\"\n")
        write("gateway/low.c", "#include \"low.h\"\n")
        write("gateway/high.c", "#include \"high.h\"\n#include \"low.h\"\n")
        write("gateway/high.h", "\n")
        write("gateway/config/config.h", "#include \"point.h\"\n")
        write("sensors/point.h", "\n")
        write("gateway/cli/table.h", "#include \"low.h\"\n")
        write("gateway/low_internal.h", "#include \"low.h\"\n")
        write("gateway/low_tcp.c", "#include \"low_internal.h\"\n")
        if check(root):
            print("self-test: a clean tree was refused: %s" % check(root))
            return 1
        write("gateway/low.c", "#include \"low.h\"\n#include \"high.h\"\n")
        write("gateway/other.c", "#include \"table.h\"\n")
        write("gateway/config/config.c", "#include \"low.h\"\n")
        write("sensors/point.h", "#include \"config.h\"\n")
        write("gateway/high.c", "#include \"high.h\"\n#include \"low_internal.h\"\n")
        kinds = ["private header included outside its module: gateway/high.c",
                 "include cycle among {gateway/config/config, gateway/high, gateway/low",
                 "daemon file includes a CLI header: gateway/other.c",
                 "loader includes a daemon header: gateway/config/config.c",
                 "codec or point includes a gateway header: sensors/point.h"]
        problems = check(root)
        missed = [kind for kind in kinds if not any(p.startswith(kind) for p in problems)]
        if missed:
            print("self-test: the check missed: %s (it said: %s)" % (missed, problems))
            return 1
    print("self-test: the check refuses cycles and upward includes")
    return 0


def main(arguments):
    if arguments[:1] == ["--self-test"]:
        return self_test()
    root = arguments[0] if arguments else os.path.join(os.path.dirname(__file__), "..", "..")
    problems = check(os.path.abspath(root))
    for problem in problems:
        print("layout: " + problem)
    if problems:
        print("layout: %d problem(s); the intended flow is pure modules -> device/alarm -> "
              "uplink -> buses -> runtime -> control/reload -> main (gateway/README.md)"
              % len(problems))
        return 1
    print("layout: no include cycle, no upward include")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
