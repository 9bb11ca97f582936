"""The Docker image, built and run without Docker (`make test-image`; needs root, chroot and debootstrap).

This machine has no Docker engine. Instead the Dockerfile's two stages are carried out as Docker would, from
the Dockerfile itself:
- build: this machine is the build stage's image (Debian 12 with Swift 6.3, as `swift:6.3-bookworm`). The
  build context is a copy of what .dockerignore admits, and the stage's RUN lines run there as written, with
  /staging moved into the work folder.
- runtime: `debian:<suite>-slim` is a `debootstrap --variant=minbase` root of the same suite. The stage's RUN,
  WORKDIR, COPY, ENV, VOLUME and USER instructions are applied to it in order, and ENTRYPOINT + CMD run
  there under chroot, as the image's user, with only the image's environment. The root gets what Docker
  mounts in every container (/proc, a read-only /sys, a small /dev), and the model folder is copied in where
  `-v models:/models` would mount it.
What this leaves out is Docker itself: namespaces, cgroups and the layer store.
"""
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "EndToEnd"))
from dockerfile import ROOT, dockerignore_admits, healthcheck_command, instructions, of, settings  # noqa: E402
from readiness import is_ready  # noqa: E402

WORK = ROOT / ".build" / "image"
MODELS = ROOT / "models"
# Libraries a Debian slim image has and the static-stdlib binary may use: the C and C++ runtimes.
BASE_LIBRARIES = {"linux-vdso.so.1", "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1",
                  "ld-linux-x86-64.so.2", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libutil.so.1"}


# What Docker mounts in every container: the Swift runtime reads its command line from /proc/self/cmdline
# (without /proc the server saw no arguments), Foundation reads CPU limits under /sys, and /dev is a fresh
# tmpfs with the usual character devices, not the host's.
CONTAINER_MOUNTS = [("proc", "proc", []), ("sys", "sysfs", ["-o", "ro"]), ("dev", "tmpfs", ["-o", "mode=755,size=1m"])]
DEVICES = [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0)]


def run(command, **kwargs):
    """Runs `command`; on failure the test fails with its output, not a traceback."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{command if isinstance(command, str) else ' '.join(map(str, command))} exited "
                    f"{result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def os_release():
    text = Path("/etc/os-release").read_text()
    return dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', text, re.M))


def debian_mirror():
    """The Debian archive apt uses here (debootstrap fetches from the same place)."""
    for path in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]:
        if path.is_file():
            match = re.search(r"(?:URIs:\s*|^deb\s+(?:\[[^]]*]\s+)?)(https?://\S+/debian)\b", path.read_text(), re.M)
            if match:
                return match.group(1)
    return "http://deb.debian.org/debian"


def mount_container_filesystems(root):
    for target, kind, options in CONTAINER_MOUNTS:
        run(["mount", "-t", kind, *options, kind, str(root / target)])
    for name, major, minor in DEVICES:
        os.mknod(root / "dev" / name, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.chmod(root / "dev" / name, 0o666)


def unmount_everything_under(root):
    """Unmounts every file system mounted under `root`, deepest first, and checks none is left: removing a
    root with a live mount in it would reach into that file system."""
    prefix = str(root.resolve()) + "/"

    def mounted():
        return [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
                if line.split()[1].startswith(prefix)]

    for target in sorted(mounted(), key=len, reverse=True):
        run(["umount", target])
    assert not mounted(), f"still mounted under {root}: {mounted()}"


def remove_root(root):
    if root.exists():
        unmount_everything_under(root)
        shutil.rmtree(root)


def build_stage():
    """Runs the build stage's RUN lines in a copy of the build context; returns the staging folder."""
    (source,) = [rest for word, rest, stage in instructions() if word == "FROM" and stage == 0]
    match = re.fullmatch(r"swift:(\d+\.\d+)-(\w+) AS build", source)
    assert match, f"the build stage is {source!r}: this harness stands in for swift:X.Y-<debian suite> only"
    version, suite = match.groups()
    here = os_release()
    version_run = run(["swift", "--version"])
    swift = version_run.stdout + version_run.stderr
    if here.get("VERSION_CODENAME") != suite or f"Swift version {version}" not in swift:
        pytest.fail(f"the build stage is {source}; this machine is {here.get('PRETTY_NAME')} with "
                    f"{swift.splitlines()[0]}")
    context, staging = WORK / "context", WORK / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    context.mkdir(parents=True, exist_ok=True)
    # The context as Docker sends it: only what .dockerignore admits (kept between runs only under .build).
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".build", ".git/")) or not path.is_file() or not dockerignore_admits(relative):
            continue
        target = context / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != path.read_bytes():
            shutil.copy2(path, target)
    for stale in sorted(context.rglob("*"), reverse=True):
        relative = stale.relative_to(context).as_posix()
        if relative.startswith(".build") or (ROOT / relative).exists():
            continue
        stale.unlink() if stale.is_file() else stale.rmdir()
    workdir = context
    for word, rest, stage in instructions():
        if stage != 0 or word == "FROM":
            continue
        if word == "WORKDIR":
            workdir = context  # /build: the context's copy
        elif word == "COPY":
            assert rest == ". .", f"build stage COPY {rest}: only the whole context is supported"
        elif word == "RUN":
            run(["sh", "-c", rest.replace("/staging", str(staging))], cwd=workdir)
        else:
            pytest.fail(f"build stage instruction {word} is not carried out by this harness")
    return staging


def runtime_stage(staging):
    """Makes the runtime stage's root; returns (root, user, workdir, environment, command, healthcheck)."""
    (source,) = [rest for word, rest, stage in instructions() if word == "FROM" and stage == 1]
    match = re.fullmatch(r"debian:(\w+)-slim", source)
    assert match, f"the runtime stage is {source!r}: this harness makes debian:<suite>-slim roots only"
    suite = match.group(1)
    root = WORK / f"rootfs-{suite}"
    base = WORK / f"base-{suite}.tar"
    if not base.exists():
        fresh = WORK / f"debootstrap-{suite}"
        remove_root(fresh)
        run(["debootstrap", "--variant=minbase", suite, str(fresh), debian_mirror()])
        run(["tar", "-C", str(fresh), "-cf", str(base) + ".partial", "."])
        os.replace(str(base) + ".partial", base)
        remove_root(fresh)
    # A fresh root from the base image every run, as `docker build` starts each build from its FROM.
    remove_root(root)
    root.mkdir(parents=True)
    run(["tar", "-C", str(root), "-xf", str(base)])
    workdir, user, env = "/", "root", {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    entrypoint = command = healthcheck = None
    for word, rest, stage in instructions():
        if stage != 1 or word == "FROM":
            continue
        if word == "RUN":
            run(["chroot", str(root), "/bin/sh", "-c", f"cd {workdir} && {rest}"], env=env)
        elif word == "WORKDIR":
            workdir = rest
            (root / rest.lstrip("/")).mkdir(parents=True, exist_ok=True)
        elif word == "COPY":
            match = re.fullmatch(r"--from=build /staging/ (\S+)", rest)
            assert match, f"runtime stage COPY {rest}: only the build stage's /staging is supported"
            target = match.group(1)
            shutil.copytree(staging, root / target.lstrip("/"), dirs_exist_ok=True)
        elif word == "ENV":
            env.update(settings(rest))
        elif word == "VOLUME":
            for volume in json.loads(rest):
                (root / volume.lstrip("/")).mkdir(parents=True, exist_ok=True)
        elif word == "USER":
            user = rest
        elif word == "ENTRYPOINT":
            entrypoint = json.loads(rest)
        elif word == "CMD":
            command = json.loads(rest)
        elif word == "HEALTHCHECK":
            healthcheck = healthcheck_command(rest)
        elif word in ("EXPOSE", "STOPSIGNAL"):
            pass
        else:
            pytest.fail(f"runtime stage instruction {word} is not carried out by this harness")
    return root, user, workdir, env, entrypoint + command, healthcheck


class Container:
    """The image's command running in its root, as its user, with `-e` overrides and a copied /models."""

    def __init__(self, image, overrides=None, model=True):
        root, user, workdir, env, self.command, self.healthcheck = image
        self.root, self.workdir = root, workdir
        # chroot takes numeric ids: a name would be looked up in this machine's /etc/passwd, not the image's.
        name, _, group = user.partition(":")
        passwd = {f.split(":")[0]: f.split(":") for f in (root / "etc/passwd").read_text().splitlines()}
        groups = {f.split(":")[0]: f.split(":")[2] for f in (root / "etc/group").read_text().splitlines()}
        self.user = f"{passwd[name][2]}:{groups[group] if group else passwd[name][3]}"
        home = passwd[name][5]
        models = root / "models"
        for f in models.glob("*"):
            f.unlink()
        if model:
            for f in MODELS.glob("*.gguf"):
                shutil.copy2(f, models / f.name)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.env = {**env, "HOSTNAME": "llamaserve-test", "HOME": home, "LLAMASERVE_PORT": str(self.port), **(overrides or {})}
        self.log_path = WORK / "container.log"
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen(self.exec(self.command), stdout=self.log_file, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"

    def exec(self, command):
        """`command` inside the root, as the image's user, in its WORKDIR, with only its environment."""
        return ["chroot", f"--userspec={self.user}", str(self.root), "/usr/bin/env", "-i", "-C", self.workdir,
                *[f"{k}={v}" for k, v in self.env.items()], *command]

    @property
    def log(self):
        return self.log_path.read_text()

    def wait_ready(self, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the container exited with {self.process.returncode}:\n{self.log}")
            if is_ready(self.url):
                return
            time.sleep(0.2)
        pytest.fail(f"the container was not ready after {timeout} s:\n{self.log}")

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


@pytest.fixture(scope="module")
def image():
    if os.geteuid() != 0 or not shutil.which("debootstrap") or not shutil.which("chroot"):
        pytest.fail("make test-image needs root, chroot and debootstrap (apt-get install debootstrap)")
    if not list(MODELS.glob("*.gguf")):
        pytest.fail("no model in models/: run make model")
    WORK.mkdir(parents=True, exist_ok=True)
    image = runtime_stage(build_stage())
    mount_container_filesystems(image[0])
    yield image
    unmount_everything_under(image[0])


@pytest.fixture
def container(image):
    started = []

    def start(**kwargs):
        c = Container(image, **kwargs)
        started.append(c)
        return c

    yield start
    for c in started:
        c.stop()


def chat_request(container, content, **fields):
    """A greedy chat completion request to `container` with one user message."""
    body = {"model": "default", "temperature": 0, "messages": [{"role": "user", "content": content}], **fields}
    return urllib.request.Request(container.url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                  headers={"Content-Type": "application/json"})


def test_the_binary_needs_only_the_c_and_cpp_runtimes(image):
    root = image[0]
    result = run(["chroot", str(root), "ldd", "/app/llamaserve"])
    assert "not found" not in result.stdout, result.stdout
    libraries = {line.split()[0].rsplit("/", 1)[-1] for line in result.stdout.splitlines() if line.strip()}
    assert libraries <= BASE_LIBRARIES, libraries - BASE_LIBRARIES


def test_serves_chat_as_a_non_root_user_and_passes_its_health_check(container):
    c = container()
    c.wait_ready()
    uid = int(re.search(r"^Uid:\s+(\d+)", Path(f"/proc/{c.process.pid}/status").read_text(), re.M).group(1))
    # chroot execs the server in place, so the process is the server itself.
    assert Path(f"/proc/{c.process.pid}/exe").resolve().name == "llamaserve" and uid != 0
    assert "listening on http://0.0.0.0:" in c.log  # LLAMASERVE_HOST from the image's ENV
    health = subprocess.run(c.exec(c.healthcheck), capture_output=True, timeout=30)
    assert health.returncode == 0, health.stderr
    with urllib.request.urlopen(chat_request(c, "What is the capital of France?", max_tokens=8), timeout=120) as response:
        reply = json.load(response)
    assert reply["choices"][0]["message"]["content"].strip()
    assert reply["usage"]["completion_tokens"] == 8


def test_stop_signal_drains_a_running_stream_and_exits_zero(container):
    c = container()
    c.wait_ready()
    with urllib.request.urlopen(chat_request(c, "Count from one to twenty.", max_tokens=64, stream=True),
                                timeout=120) as response:
        first = response.readline()
        assert first.startswith(b"data: ")
        (stop_signal,) = of("STOPSIGNAL", 1)
        c.process.send_signal(getattr(signal, stop_signal))
        rest = response.read()
    assert rest.rstrip().endswith(b"data: [DONE]")
    assert c.process.wait(timeout=60) == 0
    assert "drained; exiting" in c.log


def test_without_a_mounted_model_it_exits_with_one_clear_line(container):
    c = container(model=False)
    assert c.process.wait(timeout=60) != 0
    (line,) = c.log.strip().splitlines()
    assert line.startswith("llamaserve: ") and "/models/" in line and "does not exist" in line, c.log
