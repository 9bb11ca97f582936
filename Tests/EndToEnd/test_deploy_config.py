"""Configuration (issue 7, point 1): one settings table in ServerConfiguration.swift, shown by `serve --help`,
documented in Config/README.md and spelled out in Config/llamaserve.json; file < environment < flag; invalid
values stop startup with one sentence naming the key.

`python3 Tests/EndToEnd/test_deploy_config.py --write` regenerates the table in Config/README.md and
Config/llamaserve.json from `serve --help` after a setting changes (build first).
"""
import json
import os
import re
import socket
import subprocess
import sys
import urllib.request

import pytest

from conftest import BIN, MODEL, ROOT, Server, require_model

CONFIG_README = ROOT / "Config" / "README.md"
CONFIG_JSON = ROOT / "Config" / "llamaserve.json"
BEGIN, END = "<!-- settings table: generated from `llamaserve serve --help` -->", "<!-- end of settings table -->"


def help_text():
    return subprocess.run([str(BIN), "serve", "--help"], capture_output=True, text=True, check=True).stdout


def settings():
    """The settings table as `serve --help` prints it: [{key, flag, type, env, default, help}]."""
    lines = help_text().splitlines()
    table = []
    for first, second in zip(lines, lines[1:]):
        option = re.match(r"^  (--\S+)(?: (\S+))?\s{2,}(.+)$", first)
        detail = re.match(r"^\s{30}(.+); env (LLAMASERVE_[A-Z0-9_]+); default (.*)$", second)
        if option and detail:
            key = detail.group(2)[len("LLAMASERVE_"):].lower()
            table.append({"key": key, "flag": option.group(1), "type": detail.group(1), "env": detail.group(2),
                          "default": "" if detail.group(3) == '""' else detail.group(3), "help": option.group(3)})
    return table


def json_default(setting):
    """A setting's default as the JSON value Config/llamaserve.json holds."""
    kind, value = setting["type"], setting["default"]
    if kind.startswith("integer"):
        return int(value)
    if kind == "true or false":
        return value == "true"
    if kind == "list":
        return [item for item in value.split(",") if item]
    return value


def render_table(table):
    rows = ["| key | flag | environment | type | default | meaning |", "|---|---|---|---|---|---|"]
    for s in table:
        default = f"`{s['default']}`" if s["default"] else "empty"
        kind = s["type"].replace("|", "\\|")
        rows.append(f"| `{s['key']}` | `{s['flag']}` | `{s['env']}` | {kind} | {default} | {s['help'].replace('|', '/').replace('<', '&lt;')} |")
    return "\n".join(rows)


def write_generated_files():
    table = settings()
    text = CONFIG_README.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    CONFIG_README.write_text(text[:start] + "\n" + render_table(table) + "\n" + text[end:])
    CONFIG_JSON.write_text(json.dumps({s["key"]: json_default(s) for s in table}, indent=2) + "\n")


def print_config(*args, env=None, cwd=ROOT):
    """Runs `serve --print-config`; returns (exit code, {key: (value, source)} or None, stderr)."""
    result = subprocess.run([str(BIN), "serve", "--print-config", *args], cwd=cwd, capture_output=True, text=True,
                            env={**clean_environment(), **(env or {})}, timeout=60)
    parsed = None
    if result.returncode == 0:
        parsed = {k: (v["value"], v["source"]) for k, v in json.loads(result.stdout).items()}
    return result.returncode, parsed, result.stderr


def clean_environment():
    """The test's environment without LLAMASERVE_* variables, so a developer's settings cannot leak in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LLAMASERVE_")}


@pytest.fixture(scope="module")
def table():
    if not BIN.exists():
        pytest.skip(f"llamaserve not built ({BIN})")
    return settings()


def test_help_lists_every_setting_with_its_environment_variable(table):
    keys = [s["key"] for s in table]
    # The parse must have found the whole table, including the settings issue 7 names.
    assert len(keys) >= 25 and len(set(keys)) == len(keys)
    for required in ["port", "host", "model", "api_key", "api_key_file", "cors_origins", "log_format", "log_prompts",
                     "metrics", "drain_timeout"]:
        assert required in keys
    for s in table:
        assert s["env"] == "LLAMASERVE_" + s["key"].upper()
        expected_flag = "--" + s["key"].replace("_", "-")
        assert s["flag"] in (expected_flag, "--[no-]" + expected_flag[2:]), s


def test_config_readme_documents_every_key_with_its_default(table):
    text = CONFIG_README.read_text()
    generated = text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()
    assert generated == render_table(table), \
        "Config/README.md is out of date: run python3 Tests/EndToEnd/test_deploy_config.py --write"


def test_config_file_holds_every_key_at_its_default(table):
    assert json.loads(CONFIG_JSON.read_text()) == {s["key"]: json_default(s) for s in table}, \
        "Config/llamaserve.json is out of date: run python3 Tests/EndToEnd/test_deploy_config.py --write"


def test_the_shipped_file_resolves_to_the_defaults(table):
    code, resolved, stderr = print_config()
    assert code == 0, stderr
    for s in table:
        value, source = resolved[s["key"]]
        if s["key"] == "api_key":
            assert value == "(0 keys)"
        else:
            assert value == s["default"], s["key"]
        assert source in (f"'{s['key']}' in Config/llamaserve.json",), source


def test_binds_loopback_by_default(table):
    assert {s["key"]: s["default"] for s in table}["host"] == "127.0.0.1"


def test_file_then_environment_then_flag(tmp_path, table):
    config = tmp_path / "custom.json"
    config.write_text(json.dumps({"port": 9001, "alias": "from-file", "threads": 1, "parallel": 3,
                                  "prefix_cache": False, "cors_origins": ["http://a.example", "http://b.example"]}))
    env = {"LLAMASERVE_CONFIG": str(config), "LLAMASERVE_ALIAS": "from-env", "LLAMASERVE_THREADS": "2"}
    code, resolved, stderr = print_config("--threads", "1", "--no-metrics", env=env)
    assert code == 0, stderr
    assert resolved["port"] == ("9001", f"'port' in {config}")            # file only
    assert resolved["parallel"] == ("3", f"'parallel' in {config}")
    assert resolved["prefix_cache"] == ("false", f"'prefix_cache' in {config}")
    assert resolved["cors_origins"] == ("http://a.example,http://b.example", f"'cors_origins' in {config}")
    assert resolved["alias"] == ("from-env", "LLAMASERVE_ALIAS")          # environment beats file
    assert resolved["threads"] == ("1", "--threads")                     # flag beats environment and file
    assert resolved["metrics"] == ("false", "--metrics")
    # Only one file is read: the one named replaces Config/llamaserve.json, so its absent keys keep the defaults.
    assert resolved["log_format"] == ("text", "the default")


def test_config_flag_beats_config_environment_variable(tmp_path, table):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text('{"alias": "a"}')
    b.write_text('{"alias": "b"}')
    code, resolved, stderr = print_config("--config", str(b), env={"LLAMASERVE_CONFIG": str(a)})
    assert code == 0, stderr
    assert resolved["alias"] == ("b", f"'alias' in {b}")


def test_without_a_config_file_the_defaults_apply(tmp_path, table):
    # Run from a directory with no Config/llamaserve.json: the file is optional.
    code, resolved, stderr = print_config(cwd=tmp_path)
    assert code == 0, stderr
    assert all(source == "the default" for _, source in resolved.values())
    assert resolved["port"] == ("8080", "the default")


def test_repeated_api_key_flags_accumulate_and_are_never_printed(table):
    code, resolved, stderr = print_config("--api-key", "sk-first-secret", "--api-key", "sk-second-secret,sk-third")
    assert code == 0, stderr
    assert resolved["api_key"] == ("(3 keys)", "--api-key")


def test_unknown_environment_variable_is_a_warning(table):
    code, _, stderr = print_config(env={"LLAMASERVE_PROT": "9000"})
    assert code == 0
    assert "LLAMASERVE_PROT" in stderr and "unknown environment variable" in stderr


def test_server_uses_the_layered_settings(tmp_path, start_server):
    """The precedence above is what the running server does, not just what --print-config says."""
    config = tmp_path / "server.json"
    config.write_text(json.dumps({"alias": "from-file", "max_choices": 2}))
    s = start_server(["--config", str(config)], env={"LLAMASERVE_ALIAS": "from-env"})
    status, _, body = s.request("GET", "/v1/models")
    assert status == 200 and [m["id"] for m in json.loads(body)["data"]] == ["from-env"]
    status, _, body = s.request("POST", "/v1/completions", {"prompt": "Hi", "max_tokens": 1, "n": 3})
    assert status == 400, body  # max_choices 2 from the file
    assert "listening on http://127.0.0.1:" in s.log


INVALID = [
    # (arguments, environment, file contents or None, words the one-line message must contain)
    (["--port", "70000"], {}, None, ["port", "70000", "--port"]),
    (["--port=eighty"], {}, None, ["port", "eighty"]),
    ([], {"LLAMASERVE_PARALLEL": "0"}, None, ["parallel", "LLAMASERVE_PARALLEL"]),
    ([], {"LLAMASERVE_PREFIX_CACHE": "maybe"}, None, ["prefix_cache", "true or false"]),
    (["--log-format", "xml"], {}, None, ["log_format", "text, json", "xml"]),
    (["--chat-template", "llama9"], {}, None, ["chat_template", "llama9"]),
    ([], {}, '{"prot": 8080}', ["unknown key 'prot'"]),
    ([], {}, '{"port": true}', ["port", "integer"]),
    ([], {}, '{"port": [8080]}', ["port", "array"]),
    ([], {}, '{"cors_origins": [1, 2]}', ["cors_origins", "array of strings"]),
    ([], {}, '{"metrics": null}', ["metrics"]),
    ([], {}, '["port", 8080]', ["not a JSON object"]),
    ([], {}, '{"port": 80,', ["not a JSON object"]),
    (["--model", "/nonexistent/model.gguf"], {}, None, ["model", "/nonexistent/model.gguf", "does not exist"]),
    (["--api-key-file", "/nonexistent/keys"], {}, None, ["api_key_file", "/nonexistent/keys"]),
    (["--config", "/nonexistent/llamaserve.json"], {}, None, ["/nonexistent/llamaserve.json"]),
    (["--prot", "8080"], {}, None, ["unknown option --prot"]),
]


@pytest.mark.parametrize("args,env,contents,words", INVALID)
def test_invalid_configuration_stops_startup_with_one_sentence(tmp_path, args, env, contents, words):
    require_model()
    if contents is not None:
        (tmp_path / "bad.json").write_text(contents)
        args = ["--config", str(tmp_path / "bad.json")] + args
    result = subprocess.run([str(BIN), "serve", "--port", "0", *args], cwd=ROOT, capture_output=True, text=True,
                            env={**clean_environment(), **env}, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    message = lines[0]
    assert message.startswith("llamaserve: ") and message.count(". ") == 0, message
    for word in words:
        assert word in message, (word, message)
    assert "listening" not in result.stdout + result.stderr


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    write_generated_files()
    print("wrote", CONFIG_README, "and", CONFIG_JSON)
