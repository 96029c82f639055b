#!/usr/bin/env python3
"""Static checks of docker/compose.yaml, its override files and the Dockerfiles (without a
Docker engine; tests/docker/stack_test.sh runs them with one).

    check_compose.py COMPOSE_FILE     (its override files compose.*.yaml are checked too)

- the compose file parses (PyYAML) and has services;
- every build context, Dockerfile and build target exists (FROM ... AS <target>);
- every bind mount's source exists; every named volume is declared;
- every depends_on names a service; every service has an image or a build;
- every COPY/ADD source of each Dockerfile used (not --from) exists in its context, and
  every script that an ENTRYPOINT/HEALTHCHECK names is copied in and executable;
- what both Compose v2 and Debian's docker-compose 1.29 take: no top-level "name:", no
  "ports:" in the base file (an override cannot remove them, and host networking takes
  none); .env names the project and default files that exist;
- compose.hostnet.yaml puts every service on the host's network, with no ports;
- the relay image is pinned to a release;
- every Dockerfile builds with the classic builder too: no "# syntax=" line (BuildKit would
  fetch a frontend image), no COPY --chmod / --link, no RUN --mount, no heredocs;
- the build stage of docker/Dockerfile copies every directory that CMakeLists.txt adds;
- with a docker CLI that has the compose plugin, `docker compose config -q` also passes,
  and so does Debian's `docker-compose config -q` where it is installed.

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


def check_classic_syntax(dockerfile):
    """Only what the classic builder (docker-compose 1.29's default) takes."""
    label = os.path.relpath(dockerfile)
    with open(dockerfile) as f:
        text = f.read()
    check(not re.search(r"^\s*#\s*syntax\s*=", text, re.I | re.M),
          f"{label}: no '# syntax=' line (BuildKit would fetch a frontend image)")
    bad = []
    for word, args in dockerfile_instructions(dockerfile):
        if word in ("COPY", "ADD") and re.search(r"--(chmod|link|parents|exclude)\b", args):
            bad.append(f"{word} {args[:40]}")
        if word == "RUN" and re.search(r"--(mount|network|security)\b", args):
            bad.append(f"RUN {args[:40]}")
        if re.search(r"<<-?\s*['\"]?[A-Za-z_]+['\"]?\s*$", args) and word in ("RUN", "COPY"):
            bad.append(f"{word} heredoc")
    check(not bad, f"{label}: no BuildKit-only syntax {bad if bad else ''}".rstrip())


def check_build_copies_subdirs(dockerfile, repo):
    """The build stage copies every directory that the top-level CMakeLists.txt adds."""
    with open(os.path.join(repo, "CMakeLists.txt")) as f:
        subdirs = re.findall(r"^\s*add_subdirectory\(\s*([^\s)]+)", f.read(), re.M)
    copied, stage = set(), ""
    for word, args in dockerfile_instructions(dockerfile):
        if word == "FROM":
            m = re.search(r"\bAS\s+(\S+)\s*$", args, re.I)
            stage = m.group(1).lower() if m else ""
        elif word == "COPY" and stage == "build":
            parts = [p for p in shlex.split(args) if not p.startswith("--")]
            copied |= {p.rstrip("/") for p in parts[:-1]}
    for d in subdirs:
        check(d in copied or "." in copied,
              f"{os.path.relpath(dockerfile)} [build]: copies {d}/, which CMakeLists.txt adds")


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
    rel = os.path.relpath(compose_path)
    check("name" not in doc, f"{rel}: no top-level 'name:' (docker-compose 1.29 refuses it; .env names the project)")
    with_ports = [n for n, svc in services.items() if isinstance(svc, dict) and svc.get("ports")]
    check(not with_ports, f"{rel}: no 'ports:' in the base file (compose.ports.yaml has them) {with_ports or ''}".rstrip())
    overrides = sorted(glob.glob(os.path.join(base, "compose.*.yaml")))
    files = [(compose_path, doc)]
    for o in overrides:
        try:
            with open(o) as f:
                odoc = yaml.safe_load(f)
        except (OSError, yaml.YAMLError) as e:
            check(False, f"{os.path.relpath(o)} parses: {e}")
            continue
        if not check(isinstance(odoc, dict) and isinstance(odoc.get("services"), dict),
                     f"{os.path.relpath(o)} parses and names services"):
            continue
        check("name" not in odoc, f"{os.path.relpath(o)}: no top-level 'name:'")
        for n in odoc["services"]:
            check(n in services, f"{os.path.relpath(o)}: service {n} is a service of {rel}")
        files.append((o, odoc))
        declared_volumes |= set((odoc.get("volumes") or {}).keys())
    hostnet = os.path.join(base, "compose.hostnet.yaml")
    if check(os.path.isfile(hostnet), "compose.hostnet.yaml exists"):
        hdoc = dict(files)[hostnet] if hostnet in dict(files) else {}
        hs = (hdoc or {}).get("services") or {}
        for n in services:
            h = hs.get(n) or {}
            check(h.get("network_mode") == "host" and not h.get("ports"),
                  f"compose.hostnet.yaml: service {n} on the host's network, no ports")
    relay = services.get("relay") or {}
    img = relay.get("image", "")
    check(bool(re.search(r":v?\d+\.\d+(\.\d+)?(@sha256:[0-9a-f]{64})?$", img)),
          f"{rel}: the relay image is pinned to a release ({img})")
    envfile = os.path.join(base, ".env")
    if check(os.path.isfile(envfile), ".env exists next to the compose file"):
        env = {}
        with open(envfile) as f:
            for line in f:
                k, sep, v = line.strip().partition("=")
                if sep and not k.startswith("#"):
                    env[k] = v
        check(bool(env.get("COMPOSE_PROJECT_NAME")), f".env names the project ({env.get('COMPOSE_PROJECT_NAME')})")
        cf = [x for x in env.get("COMPOSE_FILE", "").split(":") if x]
        check(bool(cf) and all(os.path.isfile(os.path.join(base, x)) for x in cf),
              f".env: the files of COMPOSE_FILE exist ({':'.join(cf)})")
    services_to_check = [(n, svc, compose_path) for n, svc in services.items()]
    for o, odoc in files[1:]:
        for n, svc in odoc["services"].items():
            b = (svc or {}).get("build")
            if isinstance(b, dict) and "context" in b or isinstance(b, str):
                services_to_check.append((n, {"build": b, "image": svc.get("image")}, o))
    for name, svc, origin in services_to_check:
        label = f"service {name}" + ("" if origin == compose_path else f" ({os.path.basename(origin)})")
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
                    check_classic_syntax(dockerfile)
                    if "build" in stages_of[dockerfile]:
                        check_build_copies_subdirs(dockerfile, os.path.dirname(base))
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
    sets = [["compose.yaml", "compose.ports.yaml"], ["compose.yaml", "compose.hostnet.yaml"],
            ["compose.yaml", "compose.hostnet.yaml", "compose.debian-relay.yaml"]]
    tools = []
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        tools.append(("docker compose", [docker, "compose"]))
    else:
        print("note: no docker compose plugin here; skipped `docker compose config -q`")
    if shutil.which("docker-compose"):
        tools.append(("docker-compose", ["docker-compose"]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    for tname, cmd in tools:
        for fs in sets:
            args = cmd + ["-p", "devicepw"] + [a for f in fs for a in ("-f", os.path.join(base, f))] + ["config", "-q"]
            r = subprocess.run(args, capture_output=True, text=True, env=env)
            check(r.returncode == 0, f"{tname} config -q accepts {' + '.join(fs)} {r.stderr.strip()}".rstrip())
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
