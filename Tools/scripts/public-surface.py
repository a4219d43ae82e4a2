#!/usr/bin/env python3
"""Counts and lists the public surface of the package's modules.

The library products (EventLog, SupportDomain, Projections) keep `public` only for what an outside
user of the product needs; what only our own targets (SupportService, SupportServer, supportd,
Tools, Tests) use is `package`. The other modules are not products: they declare nothing `public`.

    python3 Tools/scripts/public-surface.py            # per module: public / package declarations
    python3 Tools/scripts/public-surface.py --list     # every public declaration and the targets using it
    python3 Tools/scripts/public-surface.py --check    # print the findings only, exit 1 on one (Tools/test.sh)

Findings (printed always, fatal with --check):
- a `public` declaration in a module that is not a library product;
- a `public` declaration of a product without a `///` doc comment;
- a symbol that a product's DocC catalog, or the doc comment of one of its public declarations,
  links to (``Symbol``) and that is no public symbol of the module: DocC documents the public
  surface of one module, and warns that it cannot resolve the link.

The scan is textual (one declaration per line, members found by their enclosing braces); the
targets using a declaration are those whose sources name it as a word, so a member with a common
name (`init`, `description`) is approximate. Good enough to review a surface, not a compiler.
"""
import glob
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PRODUCTS = ["EventLog", "SupportDomain", "Projections"]
MODULES = {
    "EventLog": "Sources/EventLog",
    "SupportDomain": "Sources/SupportDomain",
    "Projections": "Projections",
    "SupportService": "Sources/SupportService",
    "SupportServer": "Sources/SupportServer",
    "DemoWorkload": "Sources/DemoWorkload",
    "MailMessage": "Sources/MailMessage",
    "supportd": "Sources/supportd",
}
# The package's other targets: they use the modules but declare no surface of their own.
USERS = {
    **{os.path.basename(d): d for d in sorted(glob.glob(os.path.join(ROOT, "Tools", "*"))) if glob.glob(os.path.join(d, "*.swift"))},
    **{os.path.basename(d): d for d in sorted(glob.glob(os.path.join(ROOT, "Tests", "*Tests")))},
}

MODIFIERS = (r"public|package|open|internal|private|fileprivate|static|class|final|mutating|nonmutating|override|convenience|"
             r"required|nonisolated|indirect|lazy|weak|unowned|dynamic|optional|consuming|borrowing|prefix|postfix|infix")
DECL = re.compile(
    r"^\s*(?P<attrs>(?:@\w+(?:\([^)]*\))?\s+)*)"
    r"(?P<mods>(?:(?:" + MODIFIERS + r")(?:\((?:set|get)\))?\s+)*)"
    r"(?P<kind>struct|class|enum|protocol|actor|extension|func|var|let|init\??|subscript|typealias|case|associatedtype)\b"
    r"\s*(?P<name>`?[A-Za-z_][A-Za-z0-9_.]*`?|[^\s(<:{]+)?")
TYPE_KINDS = {"struct", "class", "enum", "protocol", "actor", "extension"}
# Witnesses of the standard library's protocols: DocC shows the protocol's documentation for them.
WITNESS = re.compile(r"\b(var description: String|var debugDescription: String|func hash\(into|static func (==|<) ?\(|func encode\(to encoder"
                     r"|init\(from decoder|func makeAsyncIterator|func makeIterator|mutating func next\(\)|typealias (Element|Iterator|Failure)\b)")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Decl:
    def __init__(self, module, path, line, access, kind, name, owner, documented, witness):
        self.module, self.path, self.line = module, path, line
        self.witness = witness
        self.access, self.kind, self.name, self.owner = access, kind, name, owner
        self.documented = documented

    @property
    def qualified(self):
        return f"{self.owner}.{self.name}" if self.owner else self.name


def swift_files(directory):
    return sorted(glob.glob(os.path.join(ROOT, directory, "**", "*.swift"), recursive=True))


def strip_strings_and_comments(line):
    line = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
    return line.split("//", 1)[0]


def declarations(module, directory):
    """The module's declarations with an access modifier, and the names public without one: the
    requirements of its protocols and the cases of its public enums."""
    found, protocols, implicit, requirements = [], set(), set(), set()
    for path in swift_files(directory):
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        stack = []  # (type name, brace depth inside it, whether a public enum)
        depth = 0
        in_block_comment = False
        for number, raw in enumerate(lines, 1):
            text = raw.strip()
            if in_block_comment:
                if "*/" in text:
                    in_block_comment = False
                continue
            if text.startswith("/*") and "*/" not in text:
                in_block_comment = True
                continue
            code = strip_strings_and_comments(raw)
            m = DECL.match(code)
            if m and m.group("kind"):
                mods = m.group("mods").split()
                access = next((a for a in ("public", "open", "package") if a in mods), None)
                kind = m.group("kind").rstrip("?")
                name = (m.group("name") or kind).strip("`")
                if kind in ("init", "subscript"):
                    name = kind
                owner = stack[-1][0] if stack else None
                if owner and owner in protocols and kind != "associatedtype":
                    implicit.update({name, f"{owner}.{name}"})
                    requirements.add(name)
                if kind == "case" and stack and stack[-1][2]:
                    cases = re.sub(r"\([^)]*\)", "", code.split("case", 1)[1])
                    for case in cases.split(","):
                        implicit.update({case.split("=")[0].strip(), f"{owner}.{case.split('=')[0].strip()}"})
                if access:
                    previous = number - 2
                    while previous >= 0 and lines[previous].strip().startswith("@"):
                        previous -= 1
                    doc = []
                    while previous >= 0 and lines[previous].strip().startswith("///"):
                        doc.insert(0, (previous + 1, lines[previous]))
                        previous -= 1
                    decl = Decl(module, os.path.relpath(path, ROOT), number, access, kind, name, owner, bool(doc), bool(WITNESS.search(code)))
                    decl.doc = doc
                    found.append(decl)
                if kind in TYPE_KINDS and "{" in code:
                    stack.append((name, depth + 1, kind == "enum" and access in ("public", "open")))
                if kind == "protocol":
                    protocols.add(name)
            depth += code.count("{") - code.count("}")
            while stack and depth < stack[-1][1]:
                stack.pop()
    return found, implicit, requirements


def words_by_target():
    words = {}
    for target, directory in {**MODULES, **USERS}.items():
        seen = set()
        for path in swift_files(directory):
            with open(path, encoding="utf-8") as f:
                seen.update(WORD.findall(f.read()))
        words[target] = seen
    return words


def catalog_links(directory):
    """Symbols a module's DocC catalog links to (``Symbol`` or ``Type/member``)."""
    listed = []
    for path in sorted(glob.glob(os.path.join(ROOT, directory, "*.docc", "*.md"))):
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                for symbol in re.findall(r"``([^`]+)``", line):
                    listed.append((os.path.relpath(path, ROOT), number, symbol))
    return listed


def main():
    listing = "--list" in sys.argv
    check = "--check" in sys.argv
    words = words_by_target()
    findings = []
    quiet = check and not listing  # --check prints its findings only
    if not quiet:
        print(f"{'module':<16}{'public':>8}{'package':>9}")
    all_decls = {}
    for module, directory in MODULES.items():
        decls, implicit, requirements = declarations(module, directory)
        all_decls[module] = decls
        public = [d for d in decls if d.access in ("public", "open")]
        package = [d for d in decls if d.access == "package"]
        marker = "  (library product)" if module in PRODUCTS else ""
        if not quiet:
            print(f"{module:<16}{len(public):>8}{len(package):>9}{marker}")
        for d in public:
            if module not in PRODUCTS:
                findings.append(f"{d.path}:{d.line}: public {d.kind} {d.qualified} in {module}, which is not a library product")
            elif not d.documented and d.kind != "extension" and not d.witness and not (d.owner and d.name in requirements):
                findings.append(f"{d.path}:{d.line}: public {d.kind} {d.qualified} has no /// doc comment")
        if module in PRODUCTS:
            # What DocC resolves: this module's public symbols (a link into another module does
            # not resolve in the module's own documentation: name it in code voice instead).
            names = {d.qualified for d in public} | implicit
            public_types = {d.name for d in public if d.kind in TYPE_KINDS - {"extension"}}
            links = [(path, number, symbol, None) for path, number, symbol in catalog_links(directory)]
            for d in public:
                scope = d.name if d.kind in TYPE_KINDS else d.owner
                links += [(d.path, number, symbol, scope) for number, line in d.doc for symbol in re.findall(r"``([^`]+)``", line)]
            for path, number, symbol, scope in links:
                parts = re.sub(r"\(.*", "", symbol).split("-")[0].split("/")
                if parts[0] == module:
                    parts = parts[1:]
                if not parts or parts[0] in ("Swift", "Foundation"):
                    continue
                if parts[-1] in ("init", "subscript"):
                    known = len(parts) == 1 or parts[-2] in public_types
                elif len(parts) > 1:
                    known = f"{parts[-2]}.{parts[-1]}" in names
                else:
                    known = parts[0] in public_types or f"{scope}.{parts[0]}" in names
                if not known:
                    findings.append(f"{path}:{number}: links ``{symbol}``, not a public symbol of {module} (DocC cannot resolve it)")
    if listing:
        for module in PRODUCTS:
            print(f"\n{module}: public declarations and the other targets naming them")
            for d in all_decls[module]:
                if d.access not in ("public", "open"):
                    continue
                users = [t for t, w in words.items() if t != module and d.name in w]
                approximate = " (member: by name)" if d.owner else ""
                print(f"  {d.path}:{d.line} {d.kind} {d.qualified}: {', '.join(users) or '-'}{approximate}")
    if findings:
        print(f"{'' if quiet else chr(10)}{len(findings)} public surface finding(s):")
        for f in findings:
            print("  " + f)
    return 1 if check and findings else 0


if __name__ == "__main__":
    sys.exit(main())
