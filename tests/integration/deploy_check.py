"""Static checks of the deployment files: the Dockerfile against scripts/install-deps,
the Makefile and the binaries, and the Kubernetes manifests against each other.

  python3 deploy_check.py dockerfile REPO [--help-text FILE] [--binary PATH]...
  python3 deploy_check.py manifests REPO [--help-text FILE]

--help-text is `dwsnetd --help` output: every DWSNETD_* variable the files set must
appear in it. Prints one line per failed check; exits 0 when all pass, 1 when one
fails, 77 when all that could run passed but a part could not (reason on the last line).
"""
import argparse
import json
import fnmatch
import glob
import os
import re
import shlex
import subprocess
import sys

import yaml

failures = []
skipped = []


def check(ok, message):
    if not ok:
        failures.append(message)
    return ok


# ---------------------------------------------------------------- Dockerfile

def dockerfile_instructions(path):
    """[(stage_index, INSTRUCTION, argument text)] with continuations joined."""
    lines, current = [], ""
    for raw in open(path):
        line = raw.rstrip("\n")
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    out, stage = [], -1
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        word = word.upper()
        if word == "FROM":
            stage += 1
        out.append((stage, word, rest.strip()))
    return out


def shell_array(script_text, name):
    m = re.search(r"^%s=\(([^)]*)\)" % name, script_text, re.M)
    return shlex.split(m.group(1)) if m else []


def dockerignored(path, patterns):
    """Docker's rule: the last matching pattern wins; a pattern also excludes
    everything below a matching directory."""
    excluded = False
    parts = path.split("/")
    for pat in patterns:
        negate = pat.startswith("!")
        p = pat[1:] if negate else pat
        p = p.rstrip("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if fnmatch.fnmatchcase(prefix, p) or (p.startswith("**/") and
                                                  fnmatch.fnmatchcase(prefix, p[3:])):
                excluded = not negate
                break
    return excluded


def direct_library_packages(binary):
    """Debian packages that provide the libraries `binary` names in DT_NEEDED."""
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                        subprocess.run(["readelf", "-d", binary], capture_output=True,
                                       text=True, check=True).stdout)
    paths = dict(re.findall(r"^\s*(\S+) => (/\S+)",
                            subprocess.run(["ldd", binary], capture_output=True,
                                           text=True).stdout, re.M))
    packages = {}
    for soname in needed:
        # The sanitizer runtimes belong to the test build only, never the image.
        if re.match(r"lib(asan|ubsan|lsan|tsan)\.so", soname):
            continue
        path = paths.get(soname)
        if not check(path, "%s: ldd cannot resolve %s" % (binary, soname)):
            continue
        owner = None
        for candidate in (path, os.path.realpath(path)):
            r = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if r.returncode == 0:
                owner = r.stdout.split(":")[0]
                break
        if check(owner, "%s: no Debian package owns %s" % (binary, path)):
            packages[owner] = soname
    return packages


def check_dockerfile(repo, help_text, binaries):
    ins = dockerfile_instructions(os.path.join(repo, "Dockerfile"))
    deps_script = open(os.path.join(repo, "scripts/install-deps")).read()
    runtime_pkgs = shell_array(deps_script, "RUNTIME_PKGS")
    check(runtime_pkgs, "scripts/install-deps has no RUNTIME_PKGS list")
    ignore = [l.strip() for l in open(os.path.join(repo, ".dockerignore"))
              if l.strip() and not l.startswith("#")]

    froms = [(s, a) for s, w, a in ins if w == "FROM"]
    check(len(froms) == 2, "expected a build and a runtime stage, found %d FROM" % len(froms))
    codename = re.search(r"^VERSION_CODENAME=(\w+)", open("/etc/os-release").read(), re.M)
    for _, arg in froms:
        image = arg.split()[0]
        check(image == "debian:%s-slim" % (codename.group(1) if codename else "?"),
              "FROM %s: must be debian:<this machine's release>-slim so that the "
              "package names checked here are the ones the image installs" % image)
    stage_names = {a.split()[2]: s for s, a in froms if len(a.split()) == 3}
    build = stage_names.get("build")
    check(build == 0, "the first stage must be named `build`")

    runs = [(s, a) for s, w, a in ins if w == "RUN"]
    for s, arg in runs:
        for command in re.split(r"&&|\|\||[;|]", arg):
            words = command.split()
            check(not words or words[0] not in ("apt-get", "apt", "dpkg", "npm", "pip", "pip3"),
                  "RUN installs packages itself instead of calling scripts/install-deps: "
                  + command.strip())
    build_runs = " && ".join(a for s, a in runs if s == build)
    runtime_runs = " && ".join(a for s, a in runs if s == len(froms) - 1)
    check(re.search(r"(^|\s)scripts/install-deps --build-only\b", build_runs),
          "build stage must run `scripts/install-deps --build-only`")
    check(re.search(r"\bmake\b[^&]*\ball\b", build_runs), "build stage must run `make ... all`")
    # The runtime stage takes what `make install PREFIX=P DESTDIR=D` put under D/P.
    inst = re.search(r"\bmake install\b([^&]*)", build_runs)
    inst_vars = dict(re.findall(r"\b(PREFIX|DESTDIR)=(\S+)", inst.group(1))) if inst else {}
    check(inst and "DESTDIR" in inst_vars,
          "build stage must run `make install PREFIX=... DESTDIR=...` (what the runtime stage copies)")
    install_root = (inst_vars.get("DESTDIR", "/nonexistent").rstrip("/") + "/"
                    + inst_vars.get("PREFIX", "/usr/local").strip("/") + "/")
    check(re.search(r"install-deps --runtime\b", runtime_runs),
          "runtime stage must run `scripts/install-deps --runtime`")
    for mode in ("--build-only", "--runtime"):
        r = subprocess.run([os.path.join(repo, "scripts/install-deps"), mode, "--print"],
                           capture_output=True, text=True)
        check(r.returncode == 0, "scripts/install-deps %s --print fails: %s" % (mode, r.stderr))

    # COPY sources: from the context they must exist and survive .dockerignore;
    # from the build stage they must be what `make install` put under DESTDIR/PREFIX.
    programs = make_programs(repo)
    copied = {}
    for s, w, arg in ins:
        if w != "COPY":
            continue
        words = arg.split()
        source_stage = None
        while words and words[0].startswith("--"):
            flag = words.pop(0)
            if flag.startswith("--from="):
                source_stage = flag[len("--from="):]
        *sources, dest = words
        for src in sources:
            if source_stage is None:
                if src == ".":
                    continue
                check(os.path.exists(os.path.join(repo, src)), "COPY %s: no such file" % src)
                check(not dockerignored(src, ignore), "COPY %s: excluded by .dockerignore" % src)
                continue
            check(source_stage in stage_names, "COPY --from=%s: no such stage" % source_stage)
            if not check(src.startswith(install_root), "COPY --from=%s %s: not under make install's %s"
                         % (source_stage, src, install_root)):
                continue
            rel = src[len(install_root):].rstrip("/")
            if rel == "bin":
                # The installed bin/ holds what `make all` builds.
                check(dest.endswith("/"), "COPY %s: copy bin/ into a directory" % src)
                for prog in sorted(programs):
                    copied[dest + os.path.basename(prog)] = prog
            elif rel == "share/dwsnet/models":
                copied[dest.rstrip("/")] = "models"
            else:
                check(False, "COPY --from=build %s: make install puts only bin/ and "
                      "share/dwsnet/models/ there" % src)
    if not glob.glob(os.path.join(repo, "server/*.c")):
        skipped.append("no server/ sources, so `make all` does not build bin/dwsnetd")

    env = {}
    for s, w, arg in ins:
        if w == "ENV":
            for item in shlex.split(arg):
                k, _, v = item.partition("=")
                env[k] = v
    listen_port = env.get("DWSNETD_LISTEN", "").rpartition(":")[2]
    check(env.get("DWSNETD_LISTEN", "").startswith("0.0.0.0:"),
          "ENV DWSNETD_LISTEN must listen on 0.0.0.0 inside the container")
    check(copied.get(env.get("DWSNET_MODELS")) == "models",
          "ENV DWSNET_MODELS (read by dwsnet and dwsnetd) must be where the models are copied")
    exposes = [a for s, w, a in ins if w == "EXPOSE"]
    check(exposes == [listen_port], "EXPOSE %s must equal DWSNETD_LISTEN's port %s"
          % (exposes, listen_port))
    health = [a for s, w, a in ins if w == "HEALTHCHECK"]
    # The port is DWSNETD_LISTEN's, taken from the variable when the container runs.
    check(len(health) == 1 and re.search(r"\bcurl\b.*://127\.0\.0\.1:\$\{DWSNETD_LISTEN##\*:\}/healthz\b",
                                         health[0] if health else ""),
          "HEALTHCHECK must curl /healthz on the port of DWSNETD_LISTEN (${DWSNETD_LISTEN##*:})")
    users = [a for s, w, a in ins if w == "USER"]
    uid = users[-1].split(":")[0] if users else "0"
    check(uid.isdigit() and uid != "0", "USER must be a numeric non-root uid, got %r" % uid)
    check(re.search(r"useradd\b.*--uid %s\b" % uid, runtime_runs),
          "the runtime stage must create the USER %s account" % uid)
    entry = [a for s, w, a in ins if w == "ENTRYPOINT"]
    entry_bin = yaml.safe_load(entry[-1])[0] if entry else None
    check(copied.get(entry_bin) == "bin/dwsnetd", "ENTRYPOINT must run the copied bin/dwsnetd")
    if help_text is not None:
        for k in env:
            if k.startswith("DWSNETD_") or k == "DWSNET_MODELS":
                check(k in help_text, "ENV %s: not a variable dwsnetd --help lists" % k)

    # The runtime package list, against what the shipped binaries link.
    if binaries:
        needed = {}
        for b in binaries:
            needed.update(direct_library_packages(b))
        needed.pop("libc6", None)  # glibc: part of every Debian base image
        for pkg, soname in sorted(needed.items()):
            check(pkg in runtime_pkgs, "RUNTIME_PKGS lacks %s (provides %s)" % (pkg, soname))
        for pkg in runtime_pkgs:
            used_by_healthcheck = health and re.search(r"\b%s\b" % re.escape(pkg), health[0])
            check(pkg in needed or used_by_healthcheck,
                  "RUNTIME_PKGS has %s, which no shipped binary links and HEALTHCHECK does "
                  "not run" % pkg)


def make_programs(repo):
    """bin/* files `make all` links, from a dry run."""
    r = subprocess.run(["make", "-C", repo, "-n", "-B", "BIN=bin", "all"],
                       capture_output=True, text=True)
    check(r.returncode == 0, "make -n all fails: " + r.stderr)
    return set(re.findall(r"-o (bin/\S+)", r.stdout))


# ---------------------------------------------------------------- Kubernetes

def load_manifests(k8s_dir):
    objects = {}
    for name in sorted(os.listdir(k8s_dir)):
        if not name.endswith(".yaml"):
            continue
        try:
            docs = [d for d in yaml.safe_load_all(open(os.path.join(k8s_dir, name))) if d]
        except yaml.YAMLError as e:
            check(False, "%s: does not parse: %s" % (name, e))
            continue
        for d in docs:
            if not check(isinstance(d, dict) and "kind" in d, "%s: a document without kind" % name):
                continue
            key = (d["kind"], d.get("metadata", {}).get("name"))
            check(key not in objects, "%s: %s/%s defined twice" % (name, *key))
            objects[key] = (name, d)
    return objects


def pod_of(obj):
    return obj["spec"]["template"]["spec"]


def container_port(container, ref):
    for p in container.get("ports", []):
        if ref in (p.get("name"), p.get("containerPort")):
            return p["containerPort"]
    return None


def check_pod(where, pod, objects, namespace):
    pod_sc = pod.get("securityContext", {})
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for c in pod.get("containers", []):
        at = "%s container %s" % (where, c.get("name"))
        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                check(r in res.get(kind, {}), "%s: resources.%s.%s missing" % (at, kind, r))
        sc = c.get("securityContext", {})
        check(sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True,
              "%s: runAsNonRoot is not true" % at)
        check(sc.get("runAsUser", pod_sc.get("runAsUser", 1)) != 0, "%s: runs as uid 0" % at)
        check(sc.get("readOnlyRootFilesystem") is True, "%s: readOnlyRootFilesystem is not true" % at)
        check(sc.get("allowPrivilegeEscalation") is False,
              "%s: allowPrivilegeEscalation is not false" % at)
        check("ALL" in sc.get("capabilities", {}).get("drop", []), "%s: capabilities not dropped" % at)
        for m in c.get("volumeMounts", []):
            check(m["name"] in volumes, "%s: mounts undeclared volume %s" % (at, m["name"]))
    for name, v in volumes.items():
        if "persistentVolumeClaim" in v:
            claim = v["persistentVolumeClaim"]["claimName"]
            check(("PersistentVolumeClaim", claim) in objects,
                  "%s: volume %s uses PVC %s, which no manifest defines" % (where, name, claim))
        if "configMap" in v:
            cm = v["configMap"]["name"]
            check(("ConfigMap", cm) in objects,
                  "%s: volume %s uses ConfigMap %s, which no manifest defines" % (where, name, cm))


def check_probes(where, container):
    for probe in ("livenessProbe", "readinessProbe"):
        p = container.get(probe, {}).get("httpGet")
        if check(p, "%s: %s with httpGet missing" % (where, probe)):
            check(container_port(container, p.get("port")),
                  "%s: %s port %s is not a container port" % (where, probe, p.get("port")))
    return (container.get("livenessProbe", {}).get("httpGet", {}).get("path"),
            container.get("readinessProbe", {}).get("httpGet", {}).get("path"))


def labels_match(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def deployment_for(objects, selector):
    for (kind, name), (_, d) in objects.items():
        if kind == "Deployment" and labels_match(selector, d["spec"]["template"]["metadata"]["labels"]):
            return d
    return None


def check_manifests(repo, help_text, dwsnetd=None):
    k8s = os.path.join(repo, "deploy/k8s")
    objects = load_manifests(k8s)
    kust = objects.get(("Kustomization", None))
    if check(kust, "deploy/k8s/kustomization.yaml missing"):
        for r in kust[1].get("resources", []):
            check(os.path.exists(os.path.join(k8s, r)), "kustomization: %s does not exist" % r)
    namespaces = {n for (k, n) in objects if k == "Namespace"}
    for (kind, name), (f, d) in objects.items():
        if kind not in ("Kustomization", "Namespace"):
            check(d.get("metadata", {}).get("namespace") in namespaces,
                  "%s: %s/%s is not in a namespace the manifests create" % (f, kind, name))

    for (kind, name), (f, d) in objects.items():
        if kind in ("Deployment", "Job"):
            check_pod("%s %s" % (kind, name), pod_of(d), objects, d["metadata"].get("namespace"))
        if kind == "Deployment":
            check(labels_match(d["spec"]["selector"].get("matchLabels"),
                               d["spec"]["template"]["metadata"].get("labels", {})),
                  "Deployment %s: selector does not match its pod labels" % name)
            for c in pod_of(d)["containers"]:
                check_probes("Deployment %s" % name, c)
        if kind == "Service":
            target = deployment_for(objects, d["spec"].get("selector"))
            if check(target, "Service %s: selects no Deployment's pods" % name):
                c = pod_of(target)["containers"][0]
                for p in d["spec"]["ports"]:
                    check(container_port(c, p.get("targetPort", p["port"])),
                          "Service %s: targetPort %s is not a container port"
                          % (name, p.get("targetPort")))
        if kind == "PodDisruptionBudget":
            check(deployment_for(objects, d["spec"]["selector"].get("matchLabels")),
                  "PDB %s: selects no Deployment's pods" % name)
        if kind == "HorizontalPodAutoscaler":
            ref = d["spec"]["scaleTargetRef"]
            check((ref["kind"], ref["name"]) in objects,
                  "HPA %s: targets missing %s/%s" % (name, ref["kind"], ref["name"]))
            check(2 <= d["spec"]["minReplicas"] <= d["spec"]["maxReplicas"],
                  "HPA %s: needs 2 <= minReplicas <= maxReplicas" % name)

    check_daemon(objects, repo, help_text)
    check_daemon_memory(objects, repo, dwsnetd)
    check_gateway(objects)
    check_zoo_job(objects)


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def check_daemon(objects, repo, help_text):
    d = objects.get(("Deployment", "dwsnetd"))
    if not check(d, "no Deployment dwsnetd"):
        return
    d = d[1]
    pod = pod_of(d)
    c = pod["containers"][0]
    live, ready = check_probes("Deployment dwsnetd", c)
    check(live == "/healthz", "dwsnetd liveness must probe /healthz, not %s" % live)
    check(ready == "/readyz", "dwsnetd readiness must probe /readyz, not %s" % ready)
    env = env_of(c)
    port = env.get("DWSNETD_LISTEN", "").rpartition(":")[2]
    check(port.isdigit() and container_port(c, int(port)),
          "dwsnetd: DWSNETD_LISTEN's port is not a container port")
    docker_env = dict(re.findall(r"(DWSNET_MODELS)=(\S+)", open(os.path.join(repo, "Dockerfile")).read()))
    models = env.get("DWSNETD_MODELS", env.get("DWSNET_MODELS", docker_env.get("DWSNET_MODELS")))
    check(models == docker_env.get("DWSNET_MODELS"),
          "dwsnetd: the models directory %s differs from the image's DWSNET_MODELS %s"
          % (models, docker_env.get("DWSNET_MODELS")))
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounted = [m for m in c.get("volumeMounts", []) if m["mountPath"] == models]
    check(mounted and "persistentVolumeClaim" in volumes.get(mounted[0]["name"], {}),
          "dwsnetd: the models directory must be a mounted volume")
    drain = env.get("DWSNETD_DRAIN_TIMEOUT")
    if check(drain and drain.isdigit(), "dwsnetd: set DWSNETD_DRAIN_TIMEOUT explicitly"):
        pre = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        pre_sleep = int(pre[-1]) if pre and pre[0].endswith("sleep") else 0
        grace = pod.get("terminationGracePeriodSeconds", 30)
        check(grace > pre_sleep + int(drain),
              "dwsnetd: terminationGracePeriodSeconds %d must exceed preStop %d s + drain %s s"
              % (grace, pre_sleep, drain))
    if help_text is not None:
        for k in env:
            check(k in help_text, "dwsnetd env %s: not a variable dwsnetd --help lists" % k)
    check(env.get("DWSNETD_LISTEN", "").startswith("0.0.0.0:"), "dwsnetd must listen on 0.0.0.0")


def quantity_bytes(q):
    """A Kubernetes memory quantity (2Gi, 512Mi, 2G, 1000) in bytes."""
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?", str(q))
    if not m:
        return None
    scale = {None: 1, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40,
             "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12}[m.group(2)]
    return int(m.group(1)) * scale


def dwsnetd_size(v):
    """A dwsnetd size (65536, 64K, 768M, 2G: binary suffixes) in bytes."""
    m = re.fullmatch(r"(\d+)([KMG])?i?B?", str(v))
    return int(m.group(1)) * {None: 1, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30}[m.group(2)] if m else None


def check_daemon_memory(objects, repo, dwsnetd):
    """The memory ceiling dwsnetd computes from the manifest's settings and the
    shipped models fits the container's limit, adds up, and the daemon is told
    that limit."""
    d = objects.get(("Deployment", "dwsnetd"))
    if not d:
        return
    c = pod_of(d[1])["containers"][0]
    env = env_of(c)
    limits = c.get("resources", {}).get("limits", {})
    limit = quantity_bytes(limits.get("memory"))
    if not check(limit, "dwsnetd: the container needs a memory limit"):
        return
    for k in ("DWSNETD_WORKERS", "DWSNETD_JOB_THREADS", "DWSNETD_BODY_MEMORY", "DWSNETD_WORK_MEMORY",
              "DWSNETD_MEMORY_LIMIT"):
        check(env.get(k), "dwsnetd: set %s explicitly (the defaults depend on the node)" % k)
    check(dwsnetd_size(env.get("DWSNETD_MEMORY_LIMIT")) == limit,
          "dwsnetd: DWSNETD_MEMORY_LIMIT %s is not the container's limit %s" % (env.get("DWSNETD_MEMORY_LIMIT"),
                                                                                 limits.get("memory")))
    cpu = str(limits.get("cpu", ""))
    check(cpu.isdigit() and int(env.get("DWSNETD_WORKERS", "0")) * int(env.get("DWSNETD_JOB_THREADS", "0")) <= int(cpu),
          "dwsnetd: workers x job threads exceed the CPU limit %s" % cpu)
    if not dwsnetd:
        skipped.append("no dwsnetd binary to compute the memory ceiling with")
        return
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("DWSNETD_")}
    run_env.update({k: v for k, v in env.items() if k.startswith("DWSNETD_") and k not in ("DWSNETD_LISTEN", "DWSNETD_MODELS")})
    p = subprocess.run([dwsnetd, "--check-memory", "--models", os.path.join(repo, "models")], env=run_env,
                       capture_output=True, text=True)
    try:
        plan = json.loads(p.stdout)
    except ValueError:
        check(False, "dwsnetd --check-memory printed no plan: %s" % p.stderr.strip())
        return
    check(p.returncode == 0 and plan["fits"], "dwsnetd: the manifest's settings do not fit: %s" % p.stderr.strip())
    parts = plan["body_memory"] + plan["workers"] * plan["work_memory"] + plan["models"] + plan["base"]
    check(parts == plan["ceiling"], "dwsnetd --check-memory: the ceiling %d is not the sum of its parts %d"
          % (plan["ceiling"], parts))
    check(plan["ceiling"] <= limit, "dwsnetd: ceiling %d bytes exceeds the container limit %d" % (plan["ceiling"], limit))
    check(plan["work_memory"] == dwsnetd_size(env.get("DWSNETD_WORK_MEMORY")),
          "dwsnetd: --check-memory's work memory %d is not DWSNETD_WORK_MEMORY" % plan["work_memory"])
    check(plan["limit"] == limit, "dwsnetd: --check-memory's limit %d is not the container's" % plan["limit"])


def check_gateway(objects):
    d = objects.get(("Deployment", "dwsnet-gateway"))
    cm = objects.get(("ConfigMap", "dwsnet-gateway"))
    if not (check(d, "no Deployment dwsnet-gateway") and check(cm, "no ConfigMap dwsnet-gateway")):
        return
    conf = cm[1]["data"]["nginx.conf"]
    c = pod_of(d[1])["containers"][0]
    listen = re.search(r"^\s*listen (\S+?);", conf, re.M)
    check(listen and container_port(c, int(listen.group(1).rpartition(":")[2])),
          "gateway: nginx listen port is not a container port")
    for path in check_probes("Deployment dwsnet-gateway", c):
        check(path and re.search(r"location = %s " % re.escape(path), conf),
              "gateway: probe path %s has no exact location in nginx.conf" % path)
    check(any(m["mountPath"] == "/etc/nginx/nginx.conf" for m in c.get("volumeMounts", [])),
          "gateway: the ConfigMap must be mounted at /etc/nginx/nginx.conf")
    # `server ... resolve` is open-source nginx 1.27.3 or later.
    if re.search(r"^\s*server \S+ resolve\b", conf, re.M):
        tag = c.get("image", "").rpartition(":")[2]
        version = tuple(int(x) for x in re.findall(r"\d+", tag)[:3])
        check(len(version) >= 2 and version + (0,) * (3 - len(version)) >= (1, 27, 3),
              "gateway: upstream `resolve` needs nginx >= 1.27.3; image %s" % c.get("image"))
    # Every upstream server name must be a headless Service with that port.
    for host, port in re.findall(r"^\s*server ([\w.-]+):(\d+) resolve", conf, re.M):
        name, ns = host.split(".")[:2]
        svc = objects.get(("Service", name))
        check(svc and svc[1]["metadata"]["namespace"] == ns
              and svc[1]["spec"].get("clusterIP") == "None"
              and any(p["port"] == int(port) for p in svc[1]["spec"]["ports"]),
              "gateway: upstream %s:%s is not a headless Service on that port" % (host, port))


def check_zoo_job(objects):
    jobs = [d for (k, _), (_, d) in objects.items() if k == "Job"]
    if not check(jobs, "no zoo Job"):
        return
    spec = jobs[0]["spec"]
    check(spec.get("completionMode") == "Indexed", "zoo Job: completionMode must be Indexed")
    args = pod_of(jobs[0])["containers"][0].get("args", [])
    shard = args[args.index("--shard") + 1] if "--shard" in args else ""
    m = re.fullmatch(r"\$\(JOB_COMPLETION_INDEX\)/(\d+)", shard)
    check(m and int(m.group(1)) == spec.get("completions"),
          "zoo Job: --shard must be $(JOB_COMPLETION_INDEX)/<completions>, got %r" % shard)
    check(args[:1] == ["zoo"], "zoo Job: must run `dwsnet zoo`")
    cpu = pod_of(jobs[0])["containers"][0].get("resources", {}).get("limits", {}).get("cpu")
    jobs_arg = args[args.index("--jobs") + 1] if "--jobs" in args else None
    check(jobs_arg is not None and str(cpu) == jobs_arg,
          "zoo Job: --jobs %s must equal the CPU limit %s (it defaults to the node's CPUs)"
          % (jobs_arg, cpu))
    check(spec.get("parallelism", 1) <= spec.get("completions", 1),
          "zoo Job: parallelism exceeds completions")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["dockerfile", "manifests"])
    ap.add_argument("repo")
    ap.add_argument("--help-text")
    ap.add_argument("--binary", action="append", default=[])
    ap.add_argument("--dwsnetd", help="the daemon, to compute the memory ceiling of the manifests' settings")
    a = ap.parse_args()
    help_text = open(a.help_text).read() if a.help_text else None
    if a.what == "dockerfile":
        check_dockerfile(a.repo, help_text, a.binary)
    else:
        check_manifests(a.repo, help_text, a.dwsnetd)
    for f in failures:
        print("FAIL:", f)
    print("%s: %d problems" % (a.what, len(failures)))
    if failures:
        sys.exit(1)
    if skipped:
        print("skipped: " + "; ".join(skipped))
        sys.exit(77)


if __name__ == "__main__":
    main()
