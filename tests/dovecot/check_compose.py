#!/usr/bin/env python3
"""Static checks of docker/compose.yaml and docker/Dockerfile (CI has no Docker engine).

    check_compose.py COMPOSE_FILE

- the compose file parses (PyYAML) and has services;
- every build context, Dockerfile and build target exists (FROM ... AS <target>);
- every bind mount's source exists; every named volume is declared;
- every depends_on names a service; every service has an image or a build;
- every COPY/ADD source of each Dockerfile used (not --from) exists in its context, and
  every script that an ENTRYPOINT/HEALTHCHECK names is copied in and executable;
- with a docker CLI that has the compose plugin, `docker compose config -q` also passes.

Prints one line per check and "N passed, N failed"; exits 1 when any failed.
"""
import glob
import os
import re
import shlex
import shutil
import subprocess
import sys

import yaml

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print(f"PASS: {what}")
    else:
        failed += 1
        print(f"FAIL: {what}")
    return cond


def dockerfile_instructions(path):
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    out, cur = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            if cur.strip():
                word, _, rest = cur.strip().partition(" ")
                out.append((word.upper(), rest.strip()))
            cur = ""
    return out


def check_dockerfile(context, dockerfile):
    """COPY/ADD sources exist; scripts named by a stage's ENTRYPOINT/HEALTHCHECK are
    copied into that stage and executable. Returns the stage names."""
    label = os.path.relpath(dockerfile)
    stages = []
    copied = {}  # this stage: destination path -> source path in the context
    for word, args in dockerfile_instructions(dockerfile):
        if word == "FROM":
            m = re.search(r"\bAS\s+(\S+)\s*$", args, re.I)
            stages.append(m.group(1).lower() if m else "")
            copied = {}
        elif word in ("COPY", "ADD"):
            parts = shlex.split(args)
            if any(p.startswith("--from") for p in parts):
                continue
            paths = [p for p in parts if not p.startswith("--")]
            if len(paths) < 2:
                check(False, f"{label}: {word} {args}: needs a source and a destination")
                continue
            dest = paths[-1]
            for src in paths[:-1]:
                hits = glob.glob(os.path.join(context, src))
                check(bool(hits), f"{label} [{stages[-1]}]: {word} source '{src}' exists in the build context")
                for h in hits:
                    key = os.path.join(dest, os.path.basename(h.rstrip("/"))) if dest.endswith("/") else dest
                    copied[key] = h
        elif word in ("ENTRYPOINT", "HEALTHCHECK"):
            m = re.search(r"\[\s*\"([^\"]+)\"", args)
            if not m or not m.group(1).endswith(".sh"):
                continue
            prog = os.path.basename(m.group(1))
            # copied as a file, or inside a copied directory (linked into PATH by a RUN)
            srcs = {s for d, s in copied.items() if os.path.basename(d) == prog and os.path.isfile(s)}
            srcs |= {os.path.join(s, prog) for s in copied.values()
                     if os.path.isdir(s) and os.path.isfile(os.path.join(s, prog))}
            ok = bool(srcs) and all(os.access(s, os.X_OK) for s in srcs)
            check(ok, f"{label} [{stages[-1]}]: {word} script {prog} is copied into the stage and executable"
                      f" ({', '.join(sorted(os.path.relpath(s) for s in srcs)) or 'not found'})")
    return stages


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    compose_path = os.path.abspath(argv[1])
    base = os.path.dirname(compose_path)
    try:
        with open(compose_path) as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        check(False, f"{compose_path} parses: {e}")
        print(f"{passed} passed, {failed} failed")
        return 1
    check(isinstance(doc, dict) and isinstance(doc.get("services"), dict) and doc["services"],
          f"{os.path.relpath(compose_path)} parses and defines services")
    services = doc.get("services") or {}
    declared_volumes = set((doc.get("volumes") or {}).keys())
    stages_of = {}  # Dockerfile -> its stage names (checked once per file)
    for name, svc in services.items():
        label = f"service {name}"
        check(isinstance(svc, dict) and ("image" in svc or "build" in svc), f"{label}: has an image or a build")
        build = svc.get("build")
        if build is not None:
            if isinstance(build, str):
                build = {"context": build}
            context = os.path.normpath(os.path.join(base, build.get("context", ".")))
            check(os.path.isdir(context), f"{label}: build context {os.path.relpath(context)} exists")
            dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
            if check(os.path.isfile(dockerfile), f"{label}: Dockerfile {os.path.relpath(dockerfile)} exists"):
                if dockerfile not in stages_of:
                    stages_of[dockerfile] = check_dockerfile(context, dockerfile)
                target = build.get("target")
                if target:
                    check(target.lower() in stages_of[dockerfile],
                          f"{label}: build target '{target}' is a stage of {os.path.relpath(dockerfile)}")
        for vol in svc.get("volumes") or []:
            if isinstance(vol, str):
                src, _, rest = vol.partition(":")
                kind = "bind" if src.startswith((".", "/", "~")) else "volume"
            else:
                src, kind = vol.get("source", ""), vol.get("type", "volume")
            if kind == "bind":
                path = os.path.normpath(os.path.join(base, os.path.expanduser(src)))
                check(os.path.exists(path), f"{label}: bind mount source {src} exists ({os.path.relpath(path)})")
            elif src:
                check(src in declared_volumes, f"{label}: named volume {src} is declared under volumes:")
        deps = svc.get("depends_on") or []
        for dep in (deps.keys() if isinstance(deps, dict) else deps):
            check(dep in services, f"{label}: depends_on {dep} is a service")
        ep = svc.get("entrypoint")
        if isinstance(ep, list) and ep and ep[0].startswith("/"):
            # an entry point from a bind mount: find the file on this side of the mount
            for vol in svc.get("volumes") or []:
                if isinstance(vol, str) and vol.startswith("."):
                    src, dst = vol.split(":")[:2]
                    if ep[0].startswith(dst.rstrip("/") + "/"):
                        host = os.path.normpath(os.path.join(base, src, ep[0][len(dst.rstrip('/')) + 1:]))
                        check(os.access(host, os.X_OK), f"{label}: entrypoint {ep[0]} is {os.path.relpath(host)}, executable")
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        r = subprocess.run([docker, "compose", "-f", compose_path, "config", "-q"], capture_output=True, text=True)
        check(r.returncode == 0, f"docker compose config -q accepts the file {r.stderr.strip()}")
    else:
        print("note: no docker compose plugin here; skipped `docker compose config -q`")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
