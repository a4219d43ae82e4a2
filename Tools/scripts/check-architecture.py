#!/usr/bin/env python3
"""Checks that the module graph of docs/architecture.md is the one Package.swift declares and the
sources import, and that dependencies run one way.

- Every module a target imports is a dependency it declares (no module reached transitively), and
  every target it declares is imported (no dead edges).
- The table under "## Modules and their direction" in docs/architecture.md lists, for every
  non-test target, exactly its declared dependencies (our targets and external products).
- No product target depends on a target under Tools/, and no tool depends on the HTTP server.

Exits 1 with one line per finding. Run by Tools/test.sh (and so by CI).
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HTTP_SERVER = "SupportServer"
# Modules of the toolchain and the platform, not dependencies a target declares.
PLATFORM = {"Foundation", "FoundationEssentials", "FoundationXML", "FoundationNetworking", "Synchronization", "Glibc", "Musl", "Darwin", "Dispatch",
            "Testing", "XCTest", "_Concurrency", "os"}
IMPORT = re.compile(r"^\s*(?:@testable\s+|@_spi\(\w+\)\s+)?(?:(?:public|package|internal|private|fileprivate)\s+)?"
                    r"import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def package_description():
    out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def target_path(target):
    if target.get("path"):
        return target["path"]
    return os.path.join("Tests" if target["type"] == "test" else "Sources", target["name"])


def declared(target):
    local, products = set(), set()
    for dependency in target["dependencies"]:
        kind, value = next(iter(dependency.items()))
        if kind == "product":
            products.add(value[0])
        else:
            local.add(value[0])
    return local, products


def imports(path):
    found = set()
    for folder, _, files in os.walk(os.path.join(ROOT, path)):
        if ".docc" in folder:
            continue
        for name in files:
            if name.endswith(".swift"):
                with open(os.path.join(folder, name), encoding="utf-8") as source:
                    for line in source:
                        match = IMPORT.match(line)
                        if match:
                            found.add(match.group(1))
    return found


def documented_graph():
    """The rows of the module table: | `Target` | `Dep`, `Dep` | `Product`, ... |"""
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as doc:
        text = doc.read()
    section = text.split("## Modules and their direction", 1)
    if len(section) < 2:
        return None
    rows = {}
    for line in section[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        names = [re.findall(r"`([^`]+)`", c) for c in cells]
        rows[names[0][0]] = (set(names[1]), set(names[2]))
    return rows


def main():
    package = package_description()
    targets = {t["name"]: t for t in package["targets"]}
    findings = []
    for name, target in targets.items():
        if target["type"] == "system":
            continue
        local, products = declared(target)
        used = imports(target_path(target)) - PLATFORM - {name}
        for module in sorted(used):
            if module in targets:
                if module not in local:
                    findings.append(f"{name} imports {module} without declaring it in Package.swift")
            elif module not in products:
                findings.append(f"{name} imports {module}, a product it does not declare in Package.swift")
        if target["type"] != "test":
            for module in sorted(local - used):
                findings.append(f"{name} declares {module} but never imports it")
        is_tool = target_path(target).startswith("Tools/")
        for module in sorted(local):
            if target["type"] != "test" and not is_tool and target_path(targets[module]).startswith("Tools/"):
                findings.append(f"{name} (a product target) depends on the tool {module}")
            if is_tool and module == HTTP_SERVER:
                findings.append(f"the tool {name} depends on the HTTP server {HTTP_SERVER}")

    documented = documented_graph()
    if documented is None:
        findings.append("docs/architecture.md has no \"## Modules and their direction\" section")
    else:
        for name, target in targets.items():
            if target["type"] == "test":
                continue
            if name not in documented:
                findings.append(f"docs/architecture.md's module table has no row for {name}")
                continue
            local, products = declared(target)
            doc_local, doc_products = documented[name]
            if doc_local != local:
                findings.append(f"docs/architecture.md says {name} depends on {sorted(doc_local)}; "
                                f"Package.swift says {sorted(local)}")
            if doc_products != products:
                findings.append(f"docs/architecture.md says {name} uses the products {sorted(doc_products)}; "
                                f"Package.swift says {sorted(products)}")
        for name in sorted(set(documented) - set(targets)):
            findings.append(f"docs/architecture.md lists {name}, which Package.swift does not have")

    for finding in findings:
        print(f"architecture: {finding}")
    if findings:
        sys.exit(1)
    print(f"architecture: the module graph of {len(targets)} targets matches Package.swift, the imports and the doc")


if __name__ == "__main__":
    main()
