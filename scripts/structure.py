#!/usr/bin/env python3
"""Structure checks over the Rust sources of both workspaces.

  python3 scripts/structure.py            # report: lines per crate, long functions, import cycles
  python3 scripts/structure.py --check    # exit 1 on an import cycle or a function over --max-fn lines

Import graph: an edge A -> B when file A names an item of file B (`use crate::..`, `super::..`,
`self::..`, or a `crate::`/`super::` path in code), with names followed through `pub use`
re-exports to the file that defines them. `mod x;` declarations are not edges. A cycle is a
strongly connected component of more than one file. Test code (`#[cfg(test)]` modules, files
under tests/, benches/, fuzz/) is left out of both checks.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_DIRS = {"target", ".git", "out", "fuzz"}


def crates():
    """(name, src_dir) of every crate with a src/ folder."""
    out = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        if "Cargo.toml" in filenames and os.path.isdir(os.path.join(dirpath, "src")):
            text = open(os.path.join(dirpath, "Cargo.toml")).read()
            m = re.search(r'^\s*name\s*=\s*"([^"]+)"', text, re.M)
            if m and "[package]" in text:
                out.append((m.group(1), os.path.join(dirpath, "src")))
    return out


def strip_comments_and_strings(src):
    """Blanks out comments, strings and char literals, keeping newlines (line numbers stay)."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', src[i:i + 20]) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r'r(#*)"', src[i:])
            end = '"' + m.group(1)
            j = src.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(\\.|\\x[0-9a-fA-F]{2}|\\u\{[0-9a-fA-F]+\}|[^\\'])'", src[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def match_brace(s, i):
    """Index just past the brace block opening at s[i] == '{'."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "{":
            depth += 1
        elif s[j] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(s)


def drop_test_modules(s):
    """Blanks `#[cfg(test)] mod x { .. }` blocks (keeps newlines)."""
    for m in reversed(list(re.finditer(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", s))):
        end = match_brace(s, m.end() - 1)
        s = s[:m.start()] + re.sub(r"[^\n]", " ", s[m.start():end]) + s[end:]
    return s


def is_test_file(path):
    base = os.path.basename(path)
    return base in ("tests.rs", "unit_tests.rs") or base.endswith("_tests.rs")


class Crate:
    def __init__(self, name, src):
        self.name, self.src = name, src
        self.files = {}  # module path tuple -> file
        self.text = {}  # file -> cleaned text
        roots = [f for f in ("lib.rs", "main.rs") if os.path.isfile(os.path.join(src, f))]
        for r in roots:
            self._load((), os.path.join(src, r))
        bins = os.path.join(src, "bin")
        if os.path.isdir(bins):
            for f in sorted(os.listdir(bins)):
                p = os.path.join(bins, f)
                if f.endswith(".rs"):
                    self._load(("bin:" + f[:-3],), p)
                elif os.path.isdir(p) and os.path.isfile(os.path.join(p, "main.rs")):
                    self._load(("bin:" + f,), os.path.join(p, "main.rs"))

    def _load(self, modpath, path):
        if path in self.text or not os.path.isfile(path):
            return
        s = drop_test_modules(strip_comments_and_strings(open(path, encoding="utf-8").read()))
        self.files[modpath] = path
        self.text[path] = s
        base = os.path.basename(path)
        d = os.path.dirname(path)
        own = d if base in ("lib.rs", "main.rs", "mod.rs") else os.path.join(d, base[:-3])
        for m in re.finditer(r"(#\[path\s*=\s*\"[^\"]*\"\]\s*)?(pub(\([^)]*\))?\s+)?mod\s+(\w+)\s*;", s):
            child = m.group(4)
            pre = s[max(0, m.start() - 40):m.start()]
            if "cfg(test)" in pre:
                continue
            for cand in (os.path.join(own, child + ".rs"), os.path.join(own, child, "mod.rs")):
                if os.path.isfile(cand):
                    if not is_test_file(cand):
                        self._load(modpath + (child,), cand)
                    break

    def file_of(self, modpath):
        return self.files.get(tuple(modpath))

    def reexports(self, modpath):
        """name -> absolute path tuple of `pub use` items of a module."""
        f = self.file_of(modpath)
        out = {}
        if not f:
            return out
        for m in re.finditer(r"pub(\([^)]*\))?\s+use\s+([^;]+);", self.text[f]):
            for full in expand_use(m.group(2)):
                segs = absolute(full, modpath)
                if segs:
                    out[segs[-1]] = segs
        return out

    def resolve(self, segs, depth=0):
        """File that defines the item at absolute path `segs` (module path + names)."""
        mod = []
        for i, s in enumerate(segs):
            if self.file_of(mod + [s]):
                mod.append(s)
                continue
            if depth < 8:
                rx = self.reexports(mod)
                if s in rx and tuple(rx[s]) != tuple(mod + [s]):
                    return self.resolve(list(rx[s]) + list(segs[i + 1:]), depth + 1)
            break
        return self.file_of(mod)


def expand_use(tree):
    """`a::{b, c::{d}}` -> ['a::b', 'a::c::d'] (`self` kept as the prefix)."""
    tree = re.sub(r"\s+", "", tree)
    tree = re.sub(r"\bas\w+", "", tree.replace("as", " as ")) if " as " in tree else tree
    tree = re.sub(r"\s*as\s*\w+", "", tree)

    def rec(prefix, t):
        if "{" not in t:
            return [prefix + t]
        i = t.index("{")
        head, body = t[:i], t[i + 1:match_brace(t, i) - 1]
        parts, depth, cur = [], 0, ""
        for ch in body:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += ch == "{"
            depth -= ch == "}"
            cur += ch
        parts.append(cur)
        res = []
        for p in parts:
            if not p:
                continue
            if p == "self":
                res.append(prefix + head.rstrip(":"))
            else:
                res.extend(rec(prefix + head, p))
        return res

    return rec("", tree)


def absolute(path, modpath):
    segs = [s for s in path.split("::") if s]
    if not segs:
        return None
    base = list(modpath)
    if segs[0] == "crate":
        return segs[1:]
    if segs[0] in ("super", "self"):
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
        return base + segs
    return None  # external crate or a local name


def edges(c):
    out = {}
    for modpath, f in c.files.items():
        s = c.text[f]
        targets = set()
        paths = []
        for m in re.finditer(r"\buse\s+([^;]+);", s):
            paths.extend(expand_use(m.group(1)))
        for m in re.finditer(r"\b((?:crate|super|self)(?:::\w+)+)", s):
            paths.append(m.group(1))
        for p in paths:
            segs = absolute(p, modpath if not os.path.basename(f) in ("lib.rs", "main.rs", "mod.rs") or True else modpath)
            if segs is None:
                continue
            t = c.resolve(segs)
            if t and t != f:
                targets.add(t)
        out[f] = targets
    return out


def sccs(graph):
    index, low, stack, on, res, i = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = i[0]
        i[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            res.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            strong(v)
    return [c for c in res if len(c) > 1]


FN_RE = re.compile(r"\bfn\s+(\w+)")


def long_functions(path, text, limit):
    out = []
    for m in FN_RE.finditer(text):
        j = m.end()
        # the body starts at the first `{` not inside parens/brackets/angles, unless `;` comes first
        depth = 0
        while j < len(text):
            ch = text[j]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif ch == ";" and depth == 0:
                j = -1
                break
            elif ch == "{" and depth == 0:
                break
            j += 1
        if j < 0 or j >= len(text):
            continue
        end = match_brace(text, j)
        start_line = text.count("\n", 0, m.start()) + 1
        lines = text.count("\n", m.start(), end) + 1
        if lines > limit:
            out.append((lines, os.path.relpath(path, ROOT), start_line, m.group(1)))
    return out


def code_lines(path):
    n = 0
    for line in open(path, encoding="utf-8"):
        t = line.strip()
        if t and not t.startswith("//"):
            n += 1
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 on an import cycle or a too-long function")
    ap.add_argument("--max-fn", type=int, default=80, help="longest function allowed outside tests (lines)")
    args = ap.parse_args()
    bad = False
    all_long = []
    print("| crate | files | lines (all .rs under the crate) | non-blank, non-comment |")
    print("|---|---:|---:|---:|")
    for name, src in crates():
        crate_dir = os.path.dirname(src)
        rs = []
        for dp, dn, fn in os.walk(crate_dir):
            dn[:] = [d for d in dn if d not in SKIP_DIRS]
            rs += [os.path.join(dp, f) for f in fn if f.endswith(".rs")]
        total = sum(sum(1 for _ in open(p, encoding="utf-8")) for p in rs)
        print(f"| {name} | {len(rs)} | {total} | {sum(code_lines(p) for p in rs)} |")
        c = Crate(name, src)
        for f, t in c.text.items():
            all_long += long_functions(f, t, args.max_fn)
        for comp in sccs(edges(c)):
            bad = True
            print(f"import cycle in {name}: " + " <-> ".join(sorted(os.path.relpath(p, ROOT) for p in comp)))
    all_long.sort(reverse=True)
    print(f"\nfunctions over {args.max_fn} lines outside tests: {len(all_long)}")
    for lines, path, line, fname in all_long:
        print(f"  {lines:4d}  {path}:{line}  {fname}")
    if args.check and (bad or all_long):
        sys.exit(1)


if __name__ == "__main__":
    main()
