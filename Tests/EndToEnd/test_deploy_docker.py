"""The Dockerfile (issue 7, point 6), statically: every path, setting and command it uses is checked against the
repository, and its HEALTHCHECK command is run against a real server. `make test-image` (Tests/Image) builds and
runs the image itself without Docker, which this machine does not have."""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import BIN, ROOT, require_model
from dockerfile import DOCKERFILE, dockerignore_admits, environment, healthcheck_command, of


def test_two_stages_toolchain_then_slim_runtime():
    stages = of("FROM")
    assert len(stages) == 2
    assert re.fullmatch(r"swift:6\.\d+-(noble|jammy|bookworm) AS build", stages[0])
    # The runtime must have the build image's glibc: the same distribution release.
    runtime = {"noble": "ubuntu:24.04", "jammy": "ubuntu:22.04", "bookworm": "debian:bookworm-slim"}
    assert stages[1] == runtime[re.search(r"-(\w+) AS", stages[0]).group(1)]


def test_build_stage_builds_the_product_with_the_static_stdlib():
    run = " ".join(of("RUN", 0))
    assert "swift build -c release --static-swift-stdlib --product llamaserve" in run
    assert "--show-bin-path" in run and "/staging/llamaserve" in run
    # The product exists and is named so in Package.swift.
    assert '.executable(name: "llamaserve"' in (ROOT / "Package.swift").read_text()


def test_build_context_has_what_swiftpm_needs_and_nothing_heavy():
    package = (ROOT / "Package.swift").read_text()
    for path in ["Package.swift", "Config/llamaserve.json", "Sources/LlamaServer/LlamaServe.swift"]:
        assert dockerignore_admits(path), path
    # Every target folder declared in Package.swift, tests included (SwiftPM checks they exist).
    for name in re.findall(r'\.(?:testTarget|target|executableTarget)\(\s*name: "(\w+)"', package):
        folder = ("Tests/" if (ROOT / "Tests" / name).is_dir() else "Sources/") + name
        assert (ROOT / folder).is_dir() and dockerignore_admits(folder + "/x.swift"), folder
    for path in ["models/SmolLM2-135M-Instruct.Q4_1.gguf", ".build/release/llamaserve", ".git/HEAD",
                 "Fuzz/HTTPParser/main.swift", "Tests/EndToEnd/__pycache__/conftest.cpython-311.pyc"]:
        assert not dockerignore_admits(path), path
    # COPY sources of the build stage exist in the repository (or are the whole context).
    for copy in of("COPY", 0):
        source = copy.split()[0]
        assert source == "." or (ROOT / source).exists(), source
    assert "Config/llamaserve.json" in " ".join(of("RUN", 0)) and (ROOT / "Config" / "llamaserve.json").exists()


def test_runtime_stage_runs_as_a_non_root_user():
    user = of("USER", 1)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert any(f"useradd" in r and user[-1].split(":")[0] in r for r in of("RUN", 1))
    assert of("COPY", 1) == ["--from=build /staging/ /app/"]
    assert of("WORKDIR", 1) == ["/app"]  # where Config/llamaserve.json is looked up
    assert json.loads(of("ENTRYPOINT", 1)[0]) == ["/app/llamaserve"] and json.loads(of("CMD", 1)[0]) == ["serve"]


def test_configuration_by_environment_and_model_volume():
    env = {k: v for k, v in environment(1).items() if k.startswith("LLAMASERVE_")}
    assert env["LLAMASERVE_HOST"] == "0.0.0.0"
    assert env["LLAMASERVE_MODEL"].startswith("/models/")
    assert json.loads(of("VOLUME", 1)[0]) == ["/models"]
    assert of("EXPOSE", 1) == [env["LLAMASERVE_PORT"]] == ["8080"]
    # Every variable is a real setting with a valid value (the model path aside, which only the volume has).
    if not BIN.exists():
        pytest.skip("llamaserve not built")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LLAMASERVE_")}
    result = subprocess.run([str(BIN), "serve", "--print-config"], cwd=ROOT, capture_output=True, text=True,
                            env={**clean, **env})
    assert result.returncode == 0 and "unknown environment variable" not in result.stderr, result.stderr
    resolved = json.loads(result.stdout)
    for name, value in env.items():
        assert resolved[name[len("LLAMASERVE_"):].lower()] == {"value": value, "source": name}


def image_healthcheck():
    (line,) = of("HEALTHCHECK", 1)
    assert re.search(r"--interval=\d+s", line) and re.search(r"--start-period=\d+s", line)
    return healthcheck_command(line)


def test_healthcheck_passes_on_a_ready_server(server):
    command = image_healthcheck()
    assert command[0] == "bash" and shutil.which("bash")  # bash is in every Ubuntu and Debian image
    result = subprocess.run(command, env={**os.environ, "LLAMASERVE_PORT": str(server.port)}, timeout=30)
    assert result.returncode == 0


def test_healthcheck_fails_while_loading_and_when_nothing_listens(tmp_path, start_server):
    command = image_healthcheck()
    fifo = tmp_path / "loading.gguf"
    os.mkfifo(fifo)  # holds the model load at open(): /health stays 503 (see test_deploy_sigterm.py)
    s = start_server(["--model", str(fifo)], model=False, wait_ready=False)
    result = subprocess.run(command, env={**os.environ, "LLAMASERVE_PORT": str(s.port)}, timeout=30)
    assert result.returncode != 0
    open(fifo, "wb").close()
    s.process.wait(timeout=60)
    result = subprocess.run(command, env={**os.environ, "LLAMASERVE_PORT": str(s.port)}, timeout=30,
                            stderr=subprocess.DEVNULL)
    assert result.returncode != 0


def test_stop_signal_and_drain_are_documented():
    assert of("STOPSIGNAL", 1) == ["SIGTERM"]
    readme = (ROOT / "README.md").read_text()
    assert "--stop-timeout 35" in readme and "x86-64" in readme and "AVX2" in readme
    assert "-target-cpu" in (ROOT / "Package.swift").read_text() and "haswell" in DOCKERFILE
