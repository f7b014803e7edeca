#!/usr/bin/env python3
"""xdrgen: turn an RFC 4506 XDR description (.x) into C codecs for nfs4d.

Usage: xdrgen.py INPUT.x OUTDIR
Writes OUTDIR/<base>_xdr.h and OUTDIR/<base>_xdr.c, where <base> is the input
file name without ".x". The C mapping is described in docs/xdr.md; the generated
code uses only the stream primitives of src/xdr/xdr.h.

Supported language: const, enum, struct, union (switch/case/default), typedef;
base types int, unsigned int, unsigned, hyper, unsigned hyper, bool and the
names int32_t, uint32_t, int64_t, uint64_t; opaque[N], opaque<N>, string<N>,
T x[N], T x<N>, T *x, void arms. Comments /* */ and //. Lines starting with %
are ignored, except "%import "other.x"", which makes the types and constants of
another .x known (its codecs are not regenerated; the header includes its
generated header).

Errors are reported as file:line: message, and the exit status is 1.
Standard library only (Python 3.11).
"""

import os
import re
import sys

C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double",
    "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long",
    "register", "restrict", "return", "short", "signed", "sizeof", "static", "struct",
    "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Alignas",
    "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic", "_Imaginary", "_Noreturn",
    "_Static_assert", "_Thread_local",
    # macros from <stdbool.h> / <stddef.h> that xdr.h pulls in
    "bool", "true", "false", "NULL", "offsetof",
    # the codec parameters
    "x", "v",
}

# Names of primitives in xdr.h: a type with one of these names would collide
# with xdr_dec_<name>/xdr_enc_<name>.
RESERVED_TYPE_NAMES = {
    "u32", "i32", "u64", "i64", "bool", "opaque", "opaque_fixed", "alloc", "count",
    "inline", "init", "remaining", "reserve", "patch_u32",
}

XDR_KEYWORDS = {
    "bool", "case", "const", "default", "double", "quadruple", "enum", "float", "hyper",
    "int", "opaque", "string", "struct", "switch", "typedef", "union", "unsigned", "void",
    "program", "version",
}

# base type name -> (C type, decode primitive, encode primitive, min encoded size)
BASE = {
    "int": ("int32_t", "xdr_dec_i32", "xdr_enc_i32", 4),
    "uint": ("uint32_t", "xdr_dec_u32", "xdr_enc_u32", 4),
    "hyper": ("int64_t", "xdr_dec_i64", "xdr_enc_i64", 8),
    "uhyper": ("uint64_t", "xdr_dec_u64", "xdr_enc_u64", 8),
    "bool": ("bool", "xdr_dec_bool", "xdr_enc_bool", 4),
}
BASE_ALIASES = {"int32_t": "int", "uint32_t": "uint", "int64_t": "hyper", "uint64_t": "uhyper"}

UINT32_MAX = 0xFFFFFFFF


class XdrError(Exception):
    def __init__(self, where, msg):
        super().__init__(f"{where[0]}:{where[1]}: {msg}")


# ---------------------------------------------------------------------------
# Lexer

TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<bcomment>/\*.*?\*/)
  | (?P<lcomment>//[^\n]*)
  | (?P<num>0[xX][0-9a-fA-F]+|[0-9]+)
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<str>"[^"\n]*")
  | (?P<punct>[{}()\[\]<>;,=:*\-])
    """,
    re.VERBOSE | re.DOTALL,
)


class Tok:
    __slots__ = ("kind", "text", "line")

    def __init__(self, kind, text, line):
        self.kind, self.text, self.line = kind, text, line

    def __repr__(self):
        return f"{self.kind}:{self.text}"


def lex(path, text):
    """Returns (tokens, imports). Lines starting with % are dropped, except %import."""
    toks = []
    imports = []
    lines = text.split("\n")
    kept = []
    for n, ln in enumerate(lines, 1):
        s = ln.lstrip()
        if s.startswith("%"):
            m = re.match(r'%\s*import\s+"?([^"\s]+)"?\s*$', s)
            if m:
                imports.append((m.group(1), n))
            kept.append("")
        else:
            kept.append(ln)
    text = "\n".join(kept)
    pos, line = 0, 1
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise XdrError((path, line), f"unexpected character {text[pos]!r}")
        kind = m.lastgroup
        val = m.group(kind)
        if kind in ("num", "id", "str", "punct"):
            toks.append(Tok(kind, val, line))
        line += val.count("\n")
        pos = m.end()
    toks.append(Tok("eof", "", line))
    return toks, imports


# ---------------------------------------------------------------------------
# AST

class TypeRef:
    """A reference to a type: base (kind 'base', name in BASE) or named."""

    def __init__(self, name, where, base=False):
        self.name, self.where, self.base = name, where, base


class Decl:
    """kind: simple | fixed_opaque | var_opaque | string | fixed_array | var_array | optional | void"""

    def __init__(self, kind, name, type_, size, where):
        self.kind, self.name, self.type, self.size, self.where = kind, name, type_, size, where
        # size: None (unbounded <>) or a Value


class Value:
    """A constant expression: a literal or a name. text is what goes into C."""

    def __init__(self, text, value, where):
        self.text, self.value, self.where = text, value, where


class Def:
    def __init__(self, kind, name, where, origin):
        self.kind, self.name, self.where = kind, name, where
        self.origin = origin  # None for this file, else the imported file's base name


class Parser:
    def __init__(self, path, toks, symbols):
        self.path, self.toks, self.i = path, toks, 0
        self.sym = symbols  # Symbols

    def where(self, tok=None):
        return (self.path, (tok or self.toks[self.i]).line)

    def peek(self, k=0):
        return self.toks[self.i + k]

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def error(self, msg, tok=None):
        raise XdrError(self.where(tok), msg)

    def expect(self, text):
        t = self.next()
        if t.text != text or t.kind not in ("punct", "id"):
            self.error(f"expected '{text}', found '{t.text or 'end of file'}'", t)
        return t

    def ident(self, what="identifier"):
        t = self.next()
        if t.kind != "id" or t.text in XDR_KEYWORDS:
            self.error(f"expected {what}, found '{t.text or 'end of file'}'", t)
        return t

    def value(self):
        """constant or identifier naming a constant/enum member."""
        t = self.next()
        neg = False
        if t.text == "-":
            neg = True
            t = self.next()
        if t.kind == "num":
            try:
                if t.text.startswith(("0x", "0X")):
                    v = int(t.text, 16)
                elif len(t.text) > 1 and t.text[0] == "0":
                    v = int(t.text, 8)  # as in C
                else:
                    v = int(t.text, 10)
            except ValueError:
                self.error(f"bad number '{t.text}'", t)
            if neg:
                return Value(f"(-{t.text})", -v, self.where(t))
            return Value(t.text, v, self.where(t))
        if t.kind == "id" and not neg and t.text not in XDR_KEYWORDS:
            v = self.sym.const_value(t.text)
            if v is None:
                self.error(f"unknown constant '{t.text}'", t)
            return Value(t.text, v, self.where(t))
        self.error(f"expected a constant, found '{t.text or 'end of file'}'", t)

    def size_value(self):
        v = self.value()
        if v.value < 0:
            raise XdrError(v.where, "negative size")
        if v.value > UINT32_MAX:
            raise XdrError(v.where, "size does not fit in 32 bits")
        return v

    def type_spec(self):
        t = self.next()
        w = self.where(t)
        if t.kind != "id":
            self.error(f"expected a type, found '{t.text or 'end of file'}'", t)
        if t.text == "unsigned":
            n = self.peek()
            if n.text == "int":
                self.next()
                return TypeRef("uint", w, base=True)
            if n.text == "hyper":
                self.next()
                return TypeRef("uhyper", w, base=True)
            return TypeRef("uint", w, base=True)
        if t.text in ("int", "hyper", "bool"):
            return TypeRef(t.text, w, base=True)
        if t.text in BASE_ALIASES:
            return TypeRef(BASE_ALIASES[t.text], w, base=True)
        if t.text in ("float", "double", "quadruple"):
            self.error(f"'{t.text}' is not supported", t)
        if t.text in ("struct", "union", "enum"):
            self.error(f"inline '{t.text}' type specifiers are not supported: name the type", t)
        if t.text in XDR_KEYWORDS:
            self.error(f"expected a type, found '{t.text}'", t)
        return TypeRef(t.text, w)

    def declaration(self):
        t = self.peek()
        w = self.where(t)
        if t.text == "void" and t.kind == "id":
            self.next()
            return Decl("void", None, None, None, w)
        if t.text in ("opaque", "string") and t.kind == "id":
            self.next()
            name = self.ident().text
            if self.peek().text == "[":
                if t.text == "string":
                    self.error("string must be variable-length: string name<N>")
                self.next()
                size = self.size_value()
                self.expect("]")
                return Decl("fixed_opaque", name, None, size, w)
            self.expect("<")
            size = None
            if self.peek().text != ">":
                size = self.size_value()
            self.expect(">")
            return Decl("var_opaque" if t.text == "opaque" else "string", name, None, size, w)
        ty = self.type_spec()
        if self.peek().text == "*":
            self.next()
            name = self.ident().text
            return Decl("optional", name, ty, None, w)
        name = self.ident().text
        if self.peek().text == "[":
            self.next()
            size = self.size_value()
            self.expect("]")
            return Decl("fixed_array", name, ty, size, w)
        if self.peek().text == "<":
            self.next()
            size = None
            if self.peek().text != ">":
                size = self.size_value()
            self.expect(">")
            return Decl("var_array", name, ty, size, w)
        return Decl("simple", name, ty, None, w)

    def parse(self, origin):
        defs = []
        while self.peek().kind != "eof":
            t = self.next()
            w = self.where(t)
            if t.text == "const":
                name = self.ident("constant name").text
                self.expect("=")
                val = self.value()
                self.expect(";")
                d = Def("const", name, w, origin)
                d.value = val
                self.sym.add(d)
                defs.append(d)
            elif t.text == "enum":
                name = self.ident("enum name").text
                d = Def("enum", name, w, origin)
                d.members = []
                self.expect("{")
                while True:
                    mt = self.ident("enum member")
                    self.expect("=")
                    val = self.value()
                    if not -(2**31) <= val.value < 2**31:
                        raise XdrError(val.where, f"enum value of '{mt.text}' does not fit in int")
                    d.members.append((mt.text, val, self.where(mt)))
                    self.sym.add_member(mt.text, val.value, d, self.where(mt))
                    if self.peek().text == ",":
                        self.next()
                        continue
                    break
                self.expect("}")
                self.expect(";")
                self.sym.add(d)
                defs.append(d)
            elif t.text == "struct":
                name = self.ident("struct name").text
                d = Def("struct", name, w, origin)
                self.sym.add(d)  # early, so that members may point to it
                d.fields = []
                self.expect("{")
                while self.peek().text != "}":
                    f = self.declaration()
                    if f.kind == "void":
                        raise XdrError(f.where, "void is only allowed in union arms")
                    self.expect(";")
                    d.fields.append(f)
                self.expect("}")
                self.expect(";")
                if not d.fields:
                    raise XdrError(w, f"struct '{name}' has no members")
                defs.append(d)
            elif t.text == "union":
                name = self.ident("union name").text
                d = Def("union", name, w, origin)
                self.sym.add(d)
                self.expect("switch")
                self.expect("(")
                d.disc = self.declaration()
                if d.disc.kind != "simple":
                    raise XdrError(d.disc.where, "union discriminant must be a plain declaration")
                self.expect(")")
                self.expect("{")
                d.arms = []  # (list of Values or None for default, Decl)
                d.default = None
                while self.peek().text in ("case", "default"):
                    kw = self.next()
                    if kw.text == "default":
                        if d.default is not None:
                            self.error("duplicate default arm", kw)
                        self.expect(":")
                        d.default = self.declaration()
                        self.expect(";")
                        continue
                    labels = [self.case_value()]
                    self.expect(":")
                    while self.peek().text == "case":
                        self.next()
                        labels.append(self.case_value())
                        self.expect(":")
                    arm = self.declaration()
                    self.expect(";")
                    d.arms.append((labels, arm))
                self.expect("}")
                self.expect(";")
                if not d.arms:
                    raise XdrError(w, f"union '{name}' has no case arms")
                defs.append(d)
            elif t.text == "typedef":
                decl = self.declaration()
                if decl.kind == "void":
                    raise XdrError(decl.where, "typedef void is not allowed")
                self.expect(";")
                d = Def("typedef", decl.name, w, origin)
                d.decl = decl
                self.sym.add(d)
                defs.append(d)
            elif t.text == "program":
                self.error("program definitions are not supported", t)
            else:
                self.error(f"expected a definition, found '{t.text}'", t)
        return defs

    def case_value(self):
        t = self.peek()
        if t.kind == "id" and t.text in ("TRUE", "FALSE") and self.sym.const_value(t.text) is None:
            self.next()
            return Value(t.text, 1 if t.text == "TRUE" else 0, self.where(t))
        return self.value()


class Symbols:
    def __init__(self):
        self.defs = {}  # name -> Def (types and consts share one namespace)
        self.members = {}  # enum member -> (value, enum Def)

    def add(self, d):
        old = self.defs.get(d.name)
        if old is not None and old is not d:
            raise XdrError(d.where, f"'{d.name}' is already defined at {old.where[0]}:{old.where[1]}")
        if d.name in self.members:
            raise XdrError(d.where, f"'{d.name}' is already an enum member")
        if d.kind != "const":
            if d.name in RESERVED_TYPE_NAMES or d.name in BASE_ALIASES:
                raise XdrError(d.where, f"type name '{d.name}' collides with an xdr.h primitive")
            if d.name in C_KEYWORDS:
                raise XdrError(d.where, f"type name '{d.name}' is a C keyword")
        self.defs[d.name] = d

    def add_member(self, name, value, enum, where):
        if name in self.members or name in self.defs:
            raise XdrError(where, f"'{name}' is already defined")
        self.members[name] = (value, enum)

    def const_value(self, name):
        d = self.defs.get(name)
        if d is not None and d.kind == "const":
            return d.value.value
        if name in self.members:
            return self.members[name][0]
        return None


# ---------------------------------------------------------------------------
# Semantic checks and type facts

def cname(name):
    """Field names that are C keywords get a trailing underscore."""
    return name + "_" if name in C_KEYWORDS else name


class Model:
    def __init__(self, sym, defs):
        self.sym, self.defs = sym, defs
        self._min = {}
        self.lists = {}  # struct name -> index of its self-referencing tail field

    def lookup(self, ref):
        d = self.sym.defs.get(ref.name)
        if d is None or d.kind == "const":
            raise XdrError(ref.where, f"unknown type '{ref.name}'")
        return d

    def ctype(self, ref):
        if ref.base:
            return BASE[ref.name][0]
        d = self.lookup(ref)
        if d.kind == "enum":
            return f"enum {d.name}"
        if d.kind in ("struct", "union"):
            return f"struct {d.name}"
        return d.name

    def resolve(self, ref):
        """Follows simple typedefs; returns a base TypeRef or a non-typedef Def (or a typedef Def of non-simple kind)."""
        seen = set()
        while not ref.base:
            d = self.lookup(ref)
            if d.kind == "typedef" and d.decl.kind == "simple":
                if d.name in seen:
                    raise XdrError(d.where, f"typedef loop through '{d.name}'")
                seen.add(d.name)
                ref = d.decl.type
                continue
            return d
        return ref

    def min_size_ref(self, ref, stack=()):
        if ref.base:
            return BASE[ref.name][3]
        d = self.lookup(ref)
        if d.name in self._min:
            return self._min[d.name]
        if d.name in stack:
            raise XdrError(d.where, f"type '{d.name}' contains itself (use an optional or an array)")
        stack = stack + (d.name,)
        if d.kind == "const":
            raise XdrError(ref.where, f"'{d.name}' is a constant, not a type")
        if d.kind == "enum":
            n = 4
        elif d.kind == "struct":
            n = sum(self.min_size_decl(f, stack) for f in d.fields)
        elif d.kind == "union":
            arms = [a for _, a in d.arms] + ([d.default] if d.default else [])
            n = 4 + min(self.min_size_decl(a, stack) for a in arms)
        else:
            n = self.min_size_decl(d.decl, stack)
        self._min[d.name] = n
        return n

    def min_size_decl(self, decl, stack=()):
        k = decl.kind
        if k == "void":
            return 0
        if k in ("var_opaque", "string", "var_array", "optional"):
            return 4
        if k == "fixed_opaque":
            return (decl.size.value + 3) & ~3
        if k == "fixed_array":
            return decl.size.value * self.min_size_ref(decl.type, stack)
        return self.min_size_ref(decl.type, stack)

    def refs(self, d):
        """Type references of a definition, as (TypeRef, Decl)."""
        out = []
        if d.kind == "struct":
            decls = d.fields
        elif d.kind == "union":
            decls = [d.disc] + [a for _, a in d.arms] + ([d.default] if d.default else [])
        elif d.kind == "typedef":
            decls = [d.decl]
        else:
            decls = []
        for decl in decls:
            if decl.type is not None and not decl.type.base:
                out.append((decl.type, decl))
        return out

    def check(self):
        local = [d for d in self.defs if d.kind != "const"]
        for d in local:
            for ref, _ in self.refs(d):
                self.lookup(ref)
        # Linked lists: a struct whose last member is an optional of itself is
        # coded iteratively. Every other cycle is refused, so that no codec
        # recurses without bound.
        for d in local:
            if d.kind == "struct":
                last = d.fields[-1]
                if last.kind == "optional" and not last.type.base and last.type.name == d.name:
                    self.lists[d.name] = len(d.fields) - 1
        graph = {}
        for d in local:
            edges = []
            for ref, decl in self.refs(d):
                if d.name in self.lists and decl is d.fields[-1]:
                    continue
                edges.append(ref.name)
            graph[d.name] = edges
        state = {}

        def visit(n, path):
            if state.get(n) == 1:
                cyc = path[path.index(n):] + [n]
                dd = self.sym.defs[n]
                raise XdrError(dd.where, "recursive type cycle " + " -> ".join(cyc) +
                               " is not supported (only a struct whose last member is an"
                               " optional of itself, a linked list)")
            if state.get(n) == 2 or n not in graph:
                return
            state[n] = 1
            for m in graph[n]:
                visit(m, path + [n])
            state[n] = 2

        for d in local:
            visit(d.name, [])
        for d in local:
            self.min_size_ref(TypeRef(d.name, d.where))
            if d.kind == "union":
                self.check_union(d)
            if d.kind == "struct":
                names = set()
                for f in d.fields:
                    if f.name in names:
                        raise XdrError(f.where, f"duplicate member '{f.name}'")
                    names.add(f.name)

    def disc_class(self, d):
        r = self.resolve(d.disc.type)
        if isinstance(r, TypeRef):
            if r.name in ("hyper", "uhyper"):
                raise XdrError(d.disc.where, "64-bit union discriminants are not supported")
            return r.name, None
        if r.kind == "enum":
            return "enum", r
        raise XdrError(d.disc.where, "union discriminant must be int, unsigned int, bool or an enum")

    def check_union(self, d):
        cls, enum = self.disc_class(d)
        seen = {}
        names = {d.disc.name}
        for labels, arm in d.arms:
            for lab in labels:
                if cls == "enum":
                    m = self.sym.members.get(lab.text)
                    if m is None or m[1] is not enum:
                        if lab.value not in [mv.value for _, mv, _ in enum.members]:
                            raise XdrError(lab.where, f"case '{lab.text}' is not a member of enum {enum.name}")
                elif cls == "bool":
                    if lab.value not in (0, 1):
                        raise XdrError(lab.where, "bool union case must be TRUE or FALSE")
                elif cls == "uint" and lab.value < 0:
                    raise XdrError(lab.where, "negative case for an unsigned discriminant")
                if lab.value in seen:
                    raise XdrError(lab.where, f"duplicate case value {lab.value}")
                seen[lab.value] = True
        for arm in [a for _, a in d.arms] + ([d.default] if d.default else []):
            if arm.kind != "void":
                if arm.name in names:
                    raise XdrError(arm.where, f"duplicate arm name '{arm.name}'")
                names.add(arm.name)

    def order(self):
        """Local type definitions in an order where each comes after what it uses."""
        local = {d.name: d for d in self.defs if d.kind != "const"}
        done, out = set(), []

        def visit(d):
            if d.name in done:
                return
            done.add(d.name)
            for ref, decl in self.refs(d):
                if d.name in self.lists and decl is d.fields[-1]:
                    continue
                if ref.name in local:
                    visit(local[ref.name])
            out.append(d)

        for d in self.defs:
            if d.kind != "const":
                visit(d)
        return out


# ---------------------------------------------------------------------------
# C generation

def max_text(size):
    if size is None or size.value >= UINT32_MAX:
        return "XDR_UNLIMITED", None
    return size.text, size.value


class Gen:
    def __init__(self, model, base):
        self.m = model
        self.base = base
        self.helpers = set()

    # --- declarations in the header ---------------------------------------
    def field_decl(self, decl):
        k, n = decl.kind, cname(decl.name) if decl.name else None
        if k == "simple":
            return f"{self.m.ctype(decl.type)} {n};"
        if k == "fixed_opaque":
            return f"uint8_t {n}[{decl.size.text}];"
        if k in ("var_opaque", "string"):
            mt, _ = max_text(decl.size)
            return f"struct xdr_opaque {n}; /* {'string' if k == 'string' else 'opaque'}<{mt if decl.size else ''}> */"
        if k == "fixed_array":
            return f"{self.m.ctype(decl.type)} {n}[{decl.size.text}];"
        if k == "var_array":
            mt, _ = max_text(decl.size)
            return (f"struct {{\n\t\tuint32_t len;\n\t\t{self.m.ctype(decl.type)} *val;\n\t}} {n};"
                    f" /* <{mt if decl.size else ''}> */")
        if k == "optional":
            return f"{self.m.ctype(decl.type)} *{n}; /* optional: NULL when absent */"
        raise AssertionError(k)

    def typedef_decl(self, d):
        decl = d.decl
        k, n = decl.kind, d.name
        if k == "simple":
            return f"typedef {self.m.ctype(decl.type)} {n};"
        if k == "fixed_opaque":
            return f"typedef struct {{\n\tuint8_t data[{decl.size.text}];\n}} {n};"
        if k in ("var_opaque", "string"):
            mt, _ = max_text(decl.size)
            return f"typedef struct xdr_opaque {n}; /* {'string' if k == 'string' else 'opaque'}<{mt if decl.size else ''}> */"
        if k == "fixed_array":
            return f"typedef struct {{\n\t{self.m.ctype(decl.type)} val[{decl.size.text}];\n}} {n};"
        if k == "var_array":
            mt, _ = max_text(decl.size)
            return (f"typedef struct {{\n\tuint32_t len;\n\t{self.m.ctype(decl.type)} *val;\n}} {n};"
                    f" /* <{mt if decl.size else ''}> */")
        if k == "optional":
            return f"typedef {self.m.ctype(decl.type)} *{n}; /* optional: NULL when absent */"
        raise AssertionError(k)

    def ctype_of_def(self, d):
        if d.kind == "enum":
            return f"enum {d.name}"
        if d.kind in ("struct", "union"):
            return f"struct {d.name}"
        return d.name

    def header_type(self, d):
        out = []
        if d.kind == "enum":
            out.append(f"enum {d.name} {{")
            for name, val, _ in d.members:
                out.append(f"\t{name} = {val.text},")
            out.append("};")
        elif d.kind == "struct":
            out.append(f"struct {d.name} {{")
            for f in d.fields:
                out.append("\t" + self.field_decl(f))
            out.append("};")
        elif d.kind == "union":
            out.append(f"struct {d.name} {{")
            out.append(f"\t{self.m.ctype(d.disc.type)} {cname(d.disc.name)};")
            arms = [a for _, a in d.arms if a.kind != "void"]
            if d.default is not None and d.default.kind != "void":
                arms.append(d.default)
            if arms:
                out.append("\tunion {")
                for a in arms:
                    out.append("\t\t" + self.field_decl(a).replace("\n\t", "\n\t\t"))
                out.append("\t} u;")
            out.append("};")
        else:
            out.append(self.typedef_decl(d))
        ct = self.ctype_of_def(d)
        out.append(f"bool xdr_dec_{d.name}(struct xdr_dec *x, {ct} *v);")
        out.append(f"bool xdr_enc_{d.name}(struct xdr_enc *x, const {ct} *v);")
        return "\n".join(out)

    # --- codec expressions -------------------------------------------------
    @staticmethod
    def addr(lv):
        if lv == "(*v)":
            return "v"
        if lv.startswith("*"):
            return lv[1:]
        return "&" + lv

    @staticmethod
    def member(lv, m):
        if lv == "(*v)":
            return "v->" + m
        return f"{lv}.{m}"

    def call_dec(self, ref, ptr):
        if ref.base:
            return f"{BASE[ref.name][1]}(x, {ptr})"
        return f"xdr_dec_{ref.name}(x, {ptr})"

    def call_enc(self, ref, ptr):
        if ref.base:
            val = ptr[1:] if ptr.startswith("&") else f"*{ptr}"
            return f"{BASE[ref.name][2]}(x, {val})"
        return f"xdr_enc_{ref.name}(x, {ptr})"

    def dec_decl(self, decl, lv, locs):
        """Statements decoding decl into lvalue lv; each returns false on failure."""
        k = decl.kind
        if k == "void":
            return []
        if k == "simple":
            return [f"if (!{self.call_dec(decl.type, self.addr(lv))})", "\treturn false;"]
        if k == "fixed_opaque":
            arr = lv if lv != "(*v)" else "v->data"
            return [f"if (!xdr_dec_opaque_fixed(x, {arr}, {decl.size.text}))", "\treturn false;"]
        if k in ("var_opaque", "string"):
            mt, _ = max_text(decl.size)
            return [f"if (!xdr_dec_opaque(x, {self.addr(lv)}, {mt}))", "\treturn false;"]
        if k == "fixed_array":
            locs.add("i")
            arr = lv if lv != "(*v)" else "v->val"
            return [f"for (i = 0; i < {decl.size.text}; i++)",
                    f"\tif (!{self.call_dec(decl.type, '&' + arr + '[i]')})",
                    "\t\treturn false;"]
        if k == "var_array":
            locs.add("i")
            self.helpers.add("alloc_array")
            mt, _ = max_text(decl.size)
            ln, val = self.member(lv, "len"), self.member(lv, "val")
            mn = self.m.min_size_ref(decl.type)
            return [f"if (!xdr_dec_count(x, &{ln}, {mt}, {mn}))",
                    "\treturn false;",
                    f"{val} = NULL;",
                    f"if ({ln}) {{",
                    f"\t{val} = xdrgen_alloc_array(x, {ln}, sizeof(*{val}));",
                    f"\tif (!{val})",
                    "\t\treturn false;",
                    "}",
                    f"for (i = 0; i < {ln}; i++)",
                    f"\tif (!{self.call_dec(decl.type, '&' + val + '[i]')})",
                    "\t\treturn false;"]
        if k == "optional":
            locs.add("present")
            lv = "*v" if lv == "(*v)" else lv
            return ["if (!xdr_dec_bool(x, &present))",
                    "\treturn false;",
                    f"{lv} = NULL;",
                    "if (present) {",
                    f"\t{lv} = xdr_dec_alloc(x, sizeof(*{lv}));",
                    f"\tif (!{lv} || !{self.call_dec(decl.type, lv)})",
                    "\t\treturn false;",
                    "}"]
        raise AssertionError(k)

    def enc_decl(self, decl, lv, locs):
        k = decl.kind
        if k == "void":
            return []
        if k == "simple":
            return [f"if (!{self.call_enc(decl.type, self.addr(lv))})", "\treturn false;"]
        if k == "fixed_opaque":
            arr = lv if lv != "(*v)" else "v->data"
            return [f"if (!xdr_enc_opaque_fixed(x, {arr}, {decl.size.text}))", "\treturn false;"]
        if k in ("var_opaque", "string"):
            mt, _ = max_text(decl.size)
            return [f"if (!xdr_enc_opaque(x, {self.addr(lv)}, {mt}))", "\treturn false;"]
        if k == "fixed_array":
            locs.add("i")
            arr = lv if lv != "(*v)" else "v->val"
            return [f"for (i = 0; i < {decl.size.text}; i++)",
                    f"\tif (!{self.call_enc(decl.type, '&' + arr + '[i]')})",
                    "\t\treturn false;"]
        if k == "var_array":
            locs.add("i")
            self.helpers.add("enc_fail")
            mt, mv = max_text(decl.size)
            ln, val = self.member(lv, "len"), self.member(lv, "val")
            cond = f"{ln} && !{val}"
            if mv is not None:
                cond = f"{ln} > {mt} || ({cond})"
            return [f"if ({cond})",
                    "\treturn xdrgen_enc_fail(x);",
                    f"if (!xdr_enc_u32(x, {ln}))",
                    "\treturn false;",
                    f"for (i = 0; i < {ln}; i++)",
                    f"\tif (!{self.call_enc(decl.type, '&' + val + '[i]')})",
                    "\t\treturn false;"]
        if k == "optional":
            lv = "*v" if lv == "(*v)" else lv
            return [f"if (!xdr_enc_bool(x, {lv} != NULL))",
                    "\treturn false;",
                    f"if ({lv} && !{self.call_enc(decl.type, lv)})",
                    "\treturn false;"]
        raise AssertionError(k)

    @staticmethod
    def collapse(stmts):
        """Ends "if (!E) return false; return true;" as "return E;"."""
        if (len(stmts) >= 3 and stmts[-1] == "return true;" and stmts[-2] == "\treturn false;"
                and stmts[-3].startswith("if (!") and stmts[-3].endswith(")")):
            e = stmts[-3][len("if (!"):-1]
            if e.count("(") == e.count(")") and " || " not in e and " && " not in e:
                return stmts[:-3] + [f"return {e};"]
        return stmts

    @staticmethod
    def body(stmts, locs, indent="\t"):
        out = []
        if "i" in locs:
            out.append(indent + "uint32_t i;")
        if "present" in locs:
            out.append(indent + "bool present;")
        if out:
            out.append("")
        for s in stmts:
            out.append((indent + s) if s else "")
        return out

    def func(self, d, which, stmts, locs):
        ct = self.ctype_of_def(d)
        if which == "dec":
            sig = f"bool xdr_dec_{d.name}(struct xdr_dec *x, {ct} *v)"
        else:
            sig = f"bool xdr_enc_{d.name}(struct xdr_enc *x, const {ct} *v)"
        return "\n".join([sig, "{"] + self.body(self.collapse(stmts), locs) + ["}"])

    def gen_enum(self, d):
        seen, labels = set(), []
        for name, val, _ in d.members:
            if val.value not in seen:
                seen.add(val.value)
                labels.append(name)
        valid = [f"static bool xdrgen_valid_{d.name}(int32_t v)", "{", "\tswitch (v) {"]
        valid += [f"\tcase {n}:" for n in labels]
        valid += ["\t\treturn true;", "\tdefault:", "\t\treturn false;", "\t}", "}"]
        dec = [f"bool xdr_dec_{d.name}(struct xdr_dec *x, enum {d.name} *v)", "{",
               "\tint32_t i;", "",
               f"\tif (!xdr_dec_i32(x, &i) || !xdrgen_valid_{d.name}(i))",
               "\t\treturn false;",
               f"\t*v = (enum {d.name})i;",
               "\treturn true;", "}"]
        self.helpers.add("enc_fail")
        enc = [f"bool xdr_enc_{d.name}(struct xdr_enc *x, const enum {d.name} *v)", "{",
               f"\tif (!xdrgen_valid_{d.name}((int32_t)*v))",
               "\t\treturn xdrgen_enc_fail(x);",
               "\treturn xdr_enc_i32(x, (int32_t)*v);", "}"]
        return ["\n".join(valid), "\n".join(dec), "\n".join(enc)]

    def gen_struct(self, d):
        fields = d.fields
        if d.name in self.m.lists:
            return self.gen_list(d)
        out = []
        for which in ("dec", "enc"):
            locs, stmts = set(), []
            for f in fields:
                fn = self.dec_decl if which == "dec" else self.enc_decl
                stmts += fn(f, f"v->{cname(f.name)}", locs)
            stmts.append("return true;")
            out.append(self.func(d, which, stmts, locs))
        return out

    def gen_list(self, d):
        """A linked list (last member is an optional of the struct itself): a loop, not recursion."""
        nxt = f"v->{cname(d.fields[-1].name)}"
        out = []
        locs, stmts = set(), []
        for f in d.fields[:-1]:
            stmts += self.dec_decl(f, f"v->{cname(f.name)}", locs)
        stmts += ["if (!xdr_dec_bool(x, &more))",
                  "\treturn false;",
                  "if (!more) {",
                  f"\t{nxt} = NULL;",
                  "\treturn true;",
                  "}",
                  f"{nxt} = xdr_dec_alloc(x, sizeof(*{nxt}));",
                  f"if (!{nxt})",
                  "\treturn false;",
                  f"v = {nxt};"]
        inner = [("\t" + s) if s else "" for s in stmts]
        body = ["/* A list: one iteration per element, so a long list cannot exhaust the stack. */",
                "for (;;) {"] + inner + ["}"]
        locs.add("more")
        out.append(self.list_func(d, "dec", body, locs))
        locs, stmts = set(), []
        for f in d.fields[:-1]:
            stmts += self.enc_decl(f, f"v->{cname(f.name)}", locs)
        stmts += [f"if (!xdr_enc_bool(x, {nxt} != NULL))",
                  "\treturn false;",
                  f"if (!{nxt})",
                  "\treturn true;",
                  f"v = {nxt};"]
        inner = [("\t" + s) if s else "" for s in stmts]
        body = ["/* A list: one iteration per element, so a long list cannot exhaust the stack. */",
                "for (;;) {"] + inner + ["}"]
        out.append(self.list_func(d, "enc", body, locs))
        return out

    def list_func(self, d, which, body, locs):
        ct = self.ctype_of_def(d)
        if which == "dec":
            sig = f"bool xdr_dec_{d.name}(struct xdr_dec *x, {ct} *v)"
        else:
            sig = f"bool xdr_enc_{d.name}(struct xdr_enc *x, const {ct} *v)"
        decls = []
        if "i" in locs:
            decls.append("\tuint32_t i;")
        if "present" in locs:
            decls.append("\tbool present;")
        if "more" in locs:
            decls.append("\tbool more;")
        if decls:
            decls.append("")
        return "\n".join([sig, "{"] + decls + ["\t" + s if s else "" for s in body] + ["}"])

    def case_label(self, cls, lab):
        if cls == "bool":
            return "1" if lab.value else "0"
        return lab.text

    def gen_union(self, d):
        cls, _ = self.m.disc_class(d)
        disc = f"v->{cname(d.disc.name)}"
        sw = f"(int){disc}" if cls == "bool" else disc
        out = []
        for which in ("dec", "enc"):
            locs = set()
            fn = self.dec_decl if which == "dec" else self.enc_decl
            call = self.call_dec if which == "dec" else self.call_enc
            stmts = [f"if (!{call(d.disc.type, '&' + disc)})", "\treturn false;",
                     f"switch ({sw}) {{"]
            for labels, arm in d.arms:
                for lab in labels:
                    stmts.append(f"case {self.case_label(cls, lab)}:")
                arm_stmts = self.collapse(fn(arm, f"v->u.{cname(arm.name)}" if arm.name else "", locs)
                                          + ["return true;"])
                stmts += ["\t" + s for s in arm_stmts]
            stmts.append("default:")
            if d.default is None:
                if which == "enc":
                    self.helpers.add("enc_fail")
                    stmts.append("\treturn xdrgen_enc_fail(x); /* no such arm */")
                else:
                    stmts.append("\treturn false; /* no such arm */")
            else:
                arm_stmts = self.collapse(fn(d.default, f"v->u.{cname(d.default.name)}"
                                             if d.default.name else "", locs) + ["return true;"])
                stmts += ["\t" + s for s in arm_stmts]
            stmts.append("}")
            out.append(self.func(d, which, stmts, locs))
        return out

    def gen_typedef(self, d):
        decl = d.decl
        out = []
        for which in ("dec", "enc"):
            locs = set()
            if decl.kind == "simple":
                call = self.call_dec if which == "dec" else self.call_enc
                stmts = [f"return {call(decl.type, 'v')};"]
            else:
                fn = self.dec_decl if which == "dec" else self.enc_decl
                stmts = fn(decl, "(*v)", locs) + ["return true;"]
            out.append(self.func(d, which, stmts, locs))
        return out

    def helper_text(self):
        out = []
        if "enc_fail" in self.helpers:
            out.append("/* An encoder refusing a value marks the stream unusable, like a buffer overflow. */\n"
                       "static bool xdrgen_enc_fail(struct xdr_enc *x)\n{\n"
                       "\tx->overflow = true;\n\treturn false;\n}")
        if "alloc_array" in self.helpers:
            out.append("/* Arena memory for n elements of size bytes, or NULL (no arena, over its limit, overflow). */\n"
                       "static void *xdrgen_alloc_array(struct xdr_dec *x, uint32_t n, size_t size)\n{\n"
                       "\tif (size && n > SIZE_MAX / size)\n\t\treturn NULL;\n"
                       "\treturn xdr_dec_alloc(x, (size_t)n * size);\n}")
        return out


def display_path(path):
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap = os.path.abspath(path)
    if ap.startswith(root + os.sep):
        return os.path.relpath(ap, root)
    return os.path.basename(path)


def load(path, sym, origin, loading):
    ap = os.path.abspath(path)
    if ap in loading:
        raise XdrError((path, 1), "import cycle")
    loading = loading | {ap}
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise XdrError((path, 1), f"cannot read: {e.strerror}")
    toks, imports = lex(path, text)
    imported = []
    for name, line in imports:
        ipath = os.path.join(os.path.dirname(path), name)
        if not os.path.exists(ipath):
            raise XdrError((path, line), f"cannot import '{name}': no such file")
        ibase = os.path.splitext(os.path.basename(name))[0]
        load(ipath, sym, ibase, loading)
        imported.append(ibase)
    defs = Parser(path, toks, sym).parse(origin)
    return defs, imported


def generate(inpath, outdir):
    base = os.path.basename(inpath)
    if not base.endswith(".x"):
        raise XdrError((inpath, 1), "input file name must end in .x")
    base = base[:-2]
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", base):
        raise XdrError((inpath, 1), "input file name must be a C identifier plus .x")
    sym = Symbols()
    defs, imported = load(inpath, sym, None, frozenset())
    model = Model(sym, defs)
    model.check()
    gen = Gen(model, base)
    src = display_path(inpath)
    guard = f"NFS4D_GEN_XDR_{base.upper()}_XDR_H"
    banner = (f"/*\n * Generated by tools/xdrgen/xdrgen.py from {src}. Do not edit:\n"
              f" * change {src} (or the generator) instead. See docs/xdr.md.\n */")
    h = [banner, f"#ifndef {guard}", f"#define {guard}", "", '#include "xdr/xdr.h"']
    for ib in imported:
        h.append(f'#include "xdr/{ib}_xdr.h"')
    h.append("")
    consts = [d for d in defs if d.kind == "const"]
    for c in consts:
        h.append(f"#define {c.name} {c.value.text}")
    if consts:
        h.append("")
    ordered = model.order()
    # Lists refer to themselves through a pointer: declare the struct tags first.
    for d in ordered:
        if d.name in model.lists:
            h.append(f"struct {d.name};")
    if model.lists:
        h.append("")
    for d in ordered:
        h.append(gen.header_type(d))
        h.append("")
    h.append(f"#endif /* {guard} */")

    bodies = []
    for d in ordered:
        if d.kind == "enum":
            bodies += gen.gen_enum(d)
        elif d.kind == "struct":
            bodies += gen.gen_struct(d)
        elif d.kind == "union":
            bodies += gen.gen_union(d)
        else:
            bodies += gen.gen_typedef(d)
    c = [banner, f'#include "xdr/{base}_xdr.h"', "", "#include <stdint.h>", ""]
    for hlp in gen.helper_text():
        c.append(hlp)
        c.append("")
    for b in bodies:
        c.append(b)
        c.append("")
    os.makedirs(outdir, exist_ok=True)
    write_if_changed(os.path.join(outdir, f"{base}_xdr.h"), "\n".join(h) + "\n")
    write_if_changed(os.path.join(outdir, f"{base}_xdr.c"), "\n".join(c).rstrip("\n") + "\n")


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                # still touch it so that the build sees the output as up to date
                os.utime(path, None)
                return
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    if len(argv) != 3:
        print("usage: xdrgen.py INPUT.x OUTDIR", file=sys.stderr)
        return 2
    try:
        generate(argv[1], argv[2])
    except XdrError as e:
        print(str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
