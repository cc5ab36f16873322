"""clsyntax.py - check one IBM i CL command line against docs/ibmi-commands.tsv.

The cutover plan prints CL commands for an administrator to run; none is ever run
by tlsready or by the tests.  This module is how the tests know each printed command
is one IBM documents: check("ADDTCPPORT PORT(8470 8479) PROTOCOL(*TCP) USRPRF(QSECOFR)")
returns a list of problems, empty when the command, every parameter and every value
is in the table (docs/ibmi-commands.tsv, each row citing the IBM page it comes from;
docs/ibmi-cutover.md says what each rests on).

What is parsed: an optional library qualifier (QSYS/ENDHOSTSVR), the command name,
then parameters, each either KEYWORD(value value ...) or, where IBM's table marks
the parameter "Positional N", a bare value in position N: a word, a 'quoted string'
(two apostrophes inside stand for one) or a parenthesised element list.  Names and
unquoted values are compared in upper case, as CL folds them.

Problems are strings that begin with a kind, so a test can tell them apart:
"syntax", "unknown command", "unknown parameter", "duplicate parameter",
"positional", "missing required parameter", "too many values", "bad value".

The table narrows IBM's syntax to what a plan may print, so a problem here means
"not in our cited table", which is stricter than "IBM i would reject it".
"""
import os
import re

TABLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "docs", "ibmi-commands.tsv")

NAME_RE = re.compile(r"^[A-Z$#@][A-Z0-9$#@_]{0,9}$")
INT_RE = re.compile(r"^<int (\d+)-(\d+)>$")
ELEMENTS_RE = re.compile(r"^<elements (\d+)>$")
PARAM_RE = re.compile(r"^([A-Z][A-Z0-9]*)(?:\.(\d+))?(?:\[([A-Z][A-Z0-9]*)=([^\]]+)\])?$")


class Spec:
    """One row of the table: what a parameter (or one element of it) accepts."""

    def __init__(self, allowed, source, notes):
        self.source = source
        self.literals = set()
        self.patterns = []
        self.elements = 0
        for a in allowed.split(","):
            a = a.strip()
            m = ELEMENTS_RE.match(a)
            if m:
                self.elements = int(m.group(1))
            elif a.startswith("<"):
                if a != "<name>" and not INT_RE.match(a):
                    raise ValueError(f"unknown pattern {a}")
                self.patterns.append(a)
            elif a:
                self.literals.add(a.upper())
        self.required = False
        self.pos = 0
        self.list_max = 1          # 1: one value; N: up to N; None: a list of unstated length
        self.single = set()
        self.range = False
        for n in notes.split():
            if n == "required":
                self.required = True
            elif n == "optional":
                pass
            elif n.startswith("pos="):
                self.pos = int(n[4:])
            elif n == "list":
                self.list_max = None
            elif n.startswith("list="):
                self.list_max = int(n[5:])
            elif n.startswith("single="):
                self.single = {v.upper() for v in n[7:].split("|")}
            elif n.startswith("elements="):
                self.elements = int(n[9:])
            elif n == "range":
                self.range = True
            else:
                raise ValueError(f"unknown note {n}")

    def accepts(self, value):
        v = value.upper()
        if v in self.literals:
            return True
        for p in self.patterns:
            if p == "<name>" and NAME_RE.match(v):
                return True
            m = INT_RE.match(p)
            if m and re.fullmatch(r"\d{1,5}", v) and int(m.group(1)) <= int(v) <= int(m.group(2)):
                return True
        return False

    def describe(self):
        values = sorted(self.literals) + self.patterns
        if len(values) > 10:
            return f"the {len(values)} values of its row"
        return ", ".join(values)


class Param:
    """A parameter of a command: its own spec, its element specs, its conditional specs."""

    def __init__(self, name):
        self.name = name
        self.spec = None
        self.element = {}          # element number -> Spec
        self.when = {}             # (other keyword, value) -> Spec

    def head(self):
        """The spec that carries required/positional: the plain row, else any conditional one."""
        if self.spec:
            return self.spec
        return next(iter(self.when.values()))


def load(path=TABLE):
    """The table as {command: {keyword: Param}}."""
    table = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if cols[0] == "command":
                continue
            if len(cols) < 5:
                raise ValueError(f"{path}:{lineno}: {len(cols)} columns, want 5")
            cmd, param, allowed, source, notes = cols[:5]
            m = PARAM_RE.match(param)
            if not m or not NAME_RE.match(cmd):
                raise ValueError(f"{path}:{lineno}: bad command or parameter {cmd} {param}")
            kw, elem, other, other_val = m.groups()
            p = table.setdefault(cmd, {}).setdefault(kw, Param(kw))
            spec = Spec(allowed, source, notes)
            if elem:
                p.element[int(elem)] = spec
            elif other:
                p.when[(other, other_val.upper())] = spec
            else:
                p.spec = spec
    return table


_cache = {}


def _table(path):
    if path not in _cache:
        _cache[path] = load(path)
    return _cache[path]


def _split(text):
    """Split at blanks outside apostrophes and parentheses; None when unbalanced."""
    items, cur, depth, quote, i = [], "", 0, False, 0
    while i < len(text):
        c = text[i]
        if quote:
            cur += c
            if c == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    cur += "'"
                    i += 1
                else:
                    quote = False
        elif c == "'":
            quote = True
            cur += c
        elif c == "(":
            depth += 1
            cur += c
        elif c == ")":
            depth -= 1
            if depth < 0:
                return None
            cur += c
        elif c in " \t" and depth == 0:
            if cur:
                items.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if quote or depth:
        return None
    if cur:
        items.append(cur)
    return items


def _values(token):
    """The values of a parameter token: (a b) -> [a, b]; 'x' -> ['x']; x -> ['x']."""
    if token.startswith("("):
        if not token.endswith(")"):
            return None
        return _split(token[1:-1])
    return [token]


def _unquote(v):
    return v[1:-1].replace("''", "'")


def parse(line):
    """(command, [(keyword or None, [values])]) or a string naming the syntax problem."""
    tokens = _split(line.strip())
    if tokens is None:
        return "unbalanced parentheses or apostrophes"
    if not tokens:
        return "empty command line"
    name = tokens[0].upper()
    if "/" in name:
        lib, name = name.split("/", 1)
        if not NAME_RE.match(lib):
            return f"bad library qualifier {lib}"
    if not NAME_RE.match(name):
        return f"bad command name {tokens[0]}"
    params = []
    for t in tokens[1:]:
        m = re.match(r"^([A-Za-z][A-Za-z0-9]*)\((.*)\)$", t, re.S)
        if m and _split(m.group(2)) is not None:
            params.append((m.group(1).upper(), _split(m.group(2))))
        elif t.startswith("(") or t.startswith("'") or re.match(r"^[A-Za-z0-9*$#@_.]+$", t):
            vals = _values(t)
            if vals is None or (t.startswith("'") and not (len(t) > 1 and t.endswith("'"))):
                return f"cannot read {t}"
            params.append((None, vals))
        else:
            return f"cannot read {t}"
    return name, params


def check(line, path=TABLE):
    """The problems of one CL command line; an empty list when it is in the table."""
    parsed = parse(line)
    if isinstance(parsed, str):
        return [f"syntax: {parsed}: {line!r}"]
    name, given = parsed
    table = _table(path)
    if name not in table:
        return [f"unknown command: {name} is not in {os.path.basename(path)}"]
    cmd = table[name]
    by_pos = {p.head().pos: p for p in cmd.values() if p.head().pos}
    problems, seen, keyword_seen, npos = [], {}, False, 0
    for kw, vals in given:
        if kw is None:
            npos += 1
            if keyword_seen:
                problems.append(f"positional: {name}: value {' '.join(vals)} after a keyword "
                                "parameter (tlsready rule: positional values come first)")
                continue
            if npos not in by_pos:
                problems.append(f"positional: {name} takes no value in position {npos} "
                                f"({' '.join(vals)})")
                continue
            kw = by_pos[npos].name
        else:
            keyword_seen = True
        if kw not in cmd:
            problems.append(f"unknown parameter: {name} has no {kw} in the table")
            continue
        if kw in seen:
            problems.append(f"duplicate parameter: {name} {kw} given twice")
            continue
        seen[kw] = vals
    for kw, p in cmd.items():
        if p.head().required and kw not in seen:
            problems.append(f"missing required parameter: {name} needs {kw}")
    for kw, vals in seen.items():
        problems += _check_param(name, cmd, cmd[kw], vals, seen)
    return problems


def _check_param(name, cmd, p, vals, seen):
    where = f"{name} {p.name}"
    spec = p.spec
    if p.when:
        for (other, other_val), s in p.when.items():
            got = seen.get(other)
            if got and len(got) == 1 and got[0].upper() == other_val:
                spec = s
        if spec is None:
            return [f"bad value: {where} is only checked for "
                    + ", ".join(f"{o}({v})" for o, v in p.when) + f"; given {' '.join(vals)}"]
    if not vals:
        return [f"bad value: {where}() is empty"]
    if spec.elements:
        return _check_elements(where, p, spec, vals)
    if spec.list_max is None:
        if len(vals) > 1:
            return [f"too many values: {where}: a list is written in apostrophes, "
                    f"'{' '.join(vals)}', not as {len(vals)} values"]
        v = vals[0]
        items = _unquote(v).split() if v.startswith("'") else [v]
        if not items:
            return [f"bad value: {where}('') is empty"]
        return _check_items(where, spec, items)
    for v in vals:
        if v.startswith("'") or v.startswith("("):
            return [f"bad value: {where}: {v} (a quoted or parenthesised value is not in the table)"]
    if len(vals) > spec.list_max:
        return [f"too many values: {where} takes at most {spec.list_max}, given {len(vals)}"]
    return _check_items(where, spec, vals)


def _check_items(where, spec, items):
    problems = []
    for v in items:
        if not spec.accepts(v):
            problems.append(f"bad value: {where}: {v} is not one of {spec.describe()}")
    upper = [v.upper() for v in items]
    for s in spec.single:
        if s in upper and len(items) > 1:
            problems.append(f"bad value: {where}: {s} must stand alone")
    if len(set(upper)) != len(upper):
        problems.append(f"bad value: {where}: a value is repeated (tlsready rule)")
    return problems


def _check_elements(where, p, spec, vals):
    if len(vals) > spec.elements:
        return [f"too many values: {where} has {spec.elements} elements, given {len(vals)}"]
    problems = []
    for i in range(1, spec.elements + 1):
        e = p.element.get(i)
        if e is None:
            continue
        if i > len(vals):
            if e.required:
                problems.append(f"missing required parameter: {where} element {i}")
            continue
        v = vals[i - 1]
        if v.startswith("'") or v.startswith("("):
            problems.append(f"bad value: {where} element {i}: {v}")
        elif not e.accepts(v):
            problems.append(f"bad value: {where} element {i}: {v} is not one of {e.describe()}")
        elif e.range and v.isdigit() and vals[0].isdigit() and int(v) < int(vals[0]):
            problems.append(f"bad value: {where}: upper {v} below lower {vals[0]} (tlsready rule)")
    return problems


if __name__ == "__main__":
    import sys
    status = 0
    for arg in sys.argv[1:] or [l.rstrip("\n") for l in sys.stdin if l.strip()]:
        for problem in check(arg):
            print(f"{arg}: {problem}")
            status = 1
    sys.exit(status)
