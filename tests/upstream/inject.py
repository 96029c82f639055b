#!/usr/bin/env python3
"""Put the devicepw overlay into OpenLDAP's own tests (tests/upstream/run.sh calls this).

  inject.py data SRC_DATA DST_DATA   copy tests/data; rewrite every slapd*.conf template
  inject.py script SRC DST           rewrite one test script (cn=config built from LDIF)

Common options: --module devicepw.so --schema devicepw.schema --ldif devicepw.ldif
--key KEYFILE --position first|last.

slapd.conf templates: after the last schema include, `include devicepw.schema` and
`moduleload devicepw.so`; in every back-mdb database (`database @BACKEND@`), a rootdn
without a password where there is none, and `overlay devicepw` + `devicepw-keyfile`:
before the database's first overlay (first) or after its last directive (last).

Scripts that build cn=config from LDIF: after the last schema include of a heredoc,
devicepw.ldif and a cn=module entry loading the module; for every back-mdb database
added (`dn: olcDatabase={N}$BACKEND,cn=config`), an olcOverlay=devicepw entry right
after the entry of the database's last overlay added (or of the database): as
`{0}devicepw` (first, ahead of the overlays added before it) or appended (last).
With `first`, explicit overlay indexes of back-mdb databases that the script uses
afterwards ({0}ppolicy, {1}memberof, ...) are shifted by one.
"""
import argparse
import os
import re
import shutil
import sys

DB_LINE = re.compile(r'^(#[^#]*#)?database\s+(\S+)')
OVERLAY_LINE = re.compile(r'^(#[^#]*#)?overlay\s')
ROOTDN_LINE = re.compile(r'^(#mdb#)?rootdn\s')
SUFFIX_LINE = re.compile(r'^(#mdb#)?suffix\s+"?([^"\s][^"]*?)"?\s*$')
SCHEMA_INCLUDE = re.compile(r'^include\s+@SCHEMADIR@/')
MDB_NAMES = ('@BACKEND@', 'mdb')


def rewrite_template(lines, a):
    out = list(lines)
    sections = []
    starts = [i for i, l in enumerate(out) if DB_LINE.match(l)]
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(out)
        if DB_LINE.match(out[s]).group(2) in MDB_NAMES:
            sections.append((s, e))
    if not sections:
        return out, 0
    # work from the bottom so that indexes stay valid
    for s, e in reversed(sections):
        body = out[s:e]
        ins = e
        if a.position == 'first':
            for i in range(s + 1, e):
                if OVERLAY_LINE.match(out[i]):
                    ins = i
                    break
        # insert before trailing blank/comment-only lines of the section (cosmetic)
        if ins == e:
            while ins > s + 1 and (out[ins - 1].strip() == '' or out[ins - 1].startswith('# ')):
                ins -= 1
        out[ins:ins] = ['overlay\t\tdevicepw', f'devicepw-keyfile\t{a.key}']
        if not any(ROOTDN_LINE.match(l) for l in body):
            for i in range(s + 1, e):
                m = SUFFIX_LINE.match(out[i])
                if m:
                    out.insert(i + 1, f'rootdn\t\t"cn=devicepw-root,{m.group(2)}"')
                    break
            else:
                raise SystemExit(f'{a.current}: back-mdb database without suffix or rootdn')
    last_inc = max((i for i, l in enumerate(out) if SCHEMA_INCLUDE.match(l)), default=None)
    if last_inc is None:
        raise SystemExit(f'{a.current}: no schema include to put devicepw.schema after')
    out[last_inc + 1:last_inc + 1] = [f'include\t\t{a.schema}', f'moduleload\t{a.module}']
    return out, len(sections)


def cmd_data(a):
    if os.path.exists(a.dst):
        shutil.rmtree(a.dst)
    shutil.copytree(a.src, a.dst, symlinks=True)
    n_files = n_dbs = 0
    for name in sorted(os.listdir(a.dst)):
        if not (name.startswith('slapd') and name.endswith('.conf')):
            continue
        p = os.path.join(a.dst, name)
        a.current = name
        with open(p) as f:
            lines = f.read().split('\n')
        out, n = rewrite_template(lines, a)
        if not n and name == 'slapd-config-naked.conf':
            # no database yet: the tests add theirs over LDAP, with the overlay
            out = add_module_schema(lines, a)
        if n or name == 'slapd-config-naked.conf':
            with open(p, 'w') as f:
                f.write('\n'.join(out))
            n_files += 1
            n_dbs += n
    print(f'inject: {n_files} templates, {n_dbs} back-mdb databases, position {a.position}')


def add_module_schema(lines, a):
    out = list(lines)
    last_inc = max(i for i, l in enumerate(out) if SCHEMA_INCLUDE.match(l))
    out[last_inc + 1:last_inc + 1] = [f'include\t\t{a.schema}', f'moduleload\t{a.module}']
    return out


DB_DN = re.compile(r'^dn: olcDatabase=\{(\d+|\$\w+)\}(\$BACKEND|\$\{BACKEND\}|mdb),cn=config\s*$', re.I)
OV_DN = re.compile(r'^dn: olcOverlay=(\{\d+\})?[^,]+,olcDatabase=\{(\d+|\$\w+)\}(\$BACKEND|\$\{BACKEND\}|mdb),cn=config\s*$', re.I)
LDIF_SCHEMA = re.compile(r'^include: file://\$ABS_SCHEMADIR/\S+\.ldif\s*$')
HEREDOC_END = re.compile(r'^EOF\s*$')
# olcOverlay={1}unique,olcDatabase={1}$BACKEND, also quoted: olcOverlay='{0}'unique,...
IDX_DN = re.compile(r"(olcOverlay=)('?)\{(\d+)\}(?=[^,]*,olcDatabase='?\{(?:\d+|\$\w+)\}'?(\$BACKEND|\$\{BACKEND\}|mdb),)", re.I)
IDX_VAL = re.compile(r'^(olcOverlay:\s*)\{(\d+)\}', re.I)
MDB_REF = re.compile(r"olcDatabase='?\{(?:\d+|\$\w+)\}'?(\$BACKEND|\$\{BACKEND\}|mdb),", re.I)


def record_at(lines, i):
    """The LDIF record starting at line i: lines up to a blank line or EOF."""
    j = i
    while j < len(lines) and lines[j].strip() != '' and not HEREDOC_END.match(lines[j]):
        j += 1
    return lines[i:j]


def record_end(lines, i):
    """Index of the blank line or EOF that ends the LDIF record starting at line i."""
    return i + len(record_at(lines, i))


def heredoc_end(lines, i):
    for j in range(i, len(lines)):
        if HEREDOC_END.match(lines[j]):
            return j
    raise SystemExit(f'no EOF after line {i + 1}')


def cmd_script(a):
    with open(a.src) as f:
        lines = f.read().split('\n')
    inserts = {}      # line index -> lines to insert before it

    # schema and module after the last schema include of each heredoc
    seen_end = set()
    for i, l in enumerate(lines):
        if LDIF_SCHEMA.match(l):
            end = heredoc_end(lines, i)
            nxt = next((j for j in range(i + 1, end) if LDIF_SCHEMA.match(lines[j])), None)
            if nxt is None and end not in seen_end:
                seen_end.add(end)
                inserts.setdefault(i + 1, []).extend([
                    '', f'include: file://{a.ldif}', '',
                    'dn: cn=module,cn=config', 'objectClass: olcModuleList', 'cn: module',
                    f'olcModuleLoad: {a.module}'])

    # the overlay for every back-mdb database added
    # Its place: after the end of the last overlay entry added to that database (a blank
    # line or the heredoc's EOF), else after the database's entry. Not after a database
    # entry when it has overlays: such entries go on in later heredocs (olcSyncRepl lines
    # echoed in a loop) and only the blank line before the next entry ends them.
    dbs = {}          # db index -> index of the line that ends its last entry
    for i, l in enumerate(lines):
        m = DB_DN.match(l)
        if m and any(r.lower().startswith('objectclass: olcdatabaseconfig') for r in record_at(lines, i)):
            dbs[m.group(1)] = record_end(lines, i)
            continue
        m = OV_DN.match(l)
        if m and m.group(2) in dbs and any(r.lower().startswith('objectclass: olcoverlayconfig')
                                           for r in record_at(lines, i)):
            dbs[m.group(2)] = record_end(lines, i)
    first_insert = None
    for n, end in sorted(dbs.items()):
        rdn = '{0}devicepw' if a.position == 'first' else 'devicepw'
        inserts.setdefault(end, []).extend([
            '', f'dn: olcOverlay={rdn},olcDatabase={{{n}}}$BACKEND,cn=config',
            'objectClass: olcOverlayConfig', 'objectClass: olcDevicepwConfig',
            f'olcOverlay: {rdn}', f'olcDevicepwKeyFile: {a.key}', ''])
        first_insert = end if first_insert is None else min(first_insert, end)

    # first: overlay indexes used after the insertion shift by one (for slapd.conf
    # tests the overlay is there from the start: every line)
    if a.position == 'first':
        start = first_insert if first_insert is not None else 0
        in_mdb_record = False
        for i in range(start, len(lines)):
            l = lines[i]
            if l.startswith('dn:'):
                in_mdb_record = bool(MDB_REF.search(l))
            elif l.strip() == '':
                in_mdb_record = False
            l = IDX_DN.sub(lambda m: f'{m.group(1)}{m.group(2)}{{{int(m.group(3)) + 1}}}', l)
            if in_mdb_record:
                l = IDX_VAL.sub(lambda m: f'{m.group(1)}{{{int(m.group(2)) + 1}}}', l)
            lines[i] = l

    out = []
    for i, l in enumerate(lines):
        out.extend(inserts.get(i, []))
        out.append(l)
    with open(a.dst, 'w') as f:
        f.write('\n'.join(out))
    os.chmod(a.dst, 0o755)
    print(f'inject: {os.path.basename(a.src)}: {len(dbs)} back-mdb databases added over LDIF')


def main():
    p = argparse.ArgumentParser()
    p.add_argument('what', choices=['data', 'script'])
    p.add_argument('src')
    p.add_argument('dst')
    p.add_argument('--module', required=True)
    p.add_argument('--schema', required=True)
    p.add_argument('--ldif', required=True)
    p.add_argument('--key', required=True)
    p.add_argument('--position', choices=['first', 'last'], required=True)
    a = p.parse_args()
    a.current = a.src
    (cmd_data if a.what == 'data' else cmd_script)(a)


if __name__ == '__main__':
    main()
