"""Logs (issue 7, points 2 and 5): the startup summary, one access-log line per request with token counts, text
or JSON lines, and never a prompt, an output or a key unless --log-prompts asks for request bodies."""
import json
import re
import uuid

from test_deploy_support import wait_for_log

KEY = "sk-log-test-5b2e"


def chat(server, marker, headers=None):
    status, _, body = server.request("POST", "/v1/chat/completions", {
        "messages": [{"role": "system", "content": f"Remember the code word {marker}."},
                     {"role": "user", "content": f"Repeat after me: {marker}"}],
        "max_tokens": 24, "temperature": 0}, headers=headers)
    assert status == 200, body
    reply = json.loads(body)
    return reply["choices"][0]["message"]["content"], reply["usage"]


def complete(server, marker, headers=None):
    status, _, body = server.request("POST", "/v1/completions", {
        "prompt": f"Secret {marker} is", "max_tokens": 4, "stream": True}, headers=headers)
    assert status == 200 and b"[DONE]" in body, body


def test_startup_summary(start_server):
    s = start_server([])
    log = wait_for_log(s, "ready on http://127.0.0.1:")
    summary = next(line for line in log.splitlines() if " model " in line and "template" in line)
    for expected in ["llama", "MiB", "Q4_1", "Q8_0", "parameters", "template chatml", "context 8192", "threads",
                     "parallel 8", "KV cache"]:
        assert expected in summary, (expected, summary)
    assert re.search(r"loading \S+SmolLM2-135M-Instruct\.Q4_1\.gguf \(\d+ MiB\)", log)
    assert f"ready on http://127.0.0.1:{s.port}" in log


def test_no_prompt_output_or_key_at_the_default_level(start_server):
    s = start_server(["--api-key", KEY])
    marker = "zebra" + uuid.uuid4().hex[:12]
    reply, usage = chat(s, marker, headers={"Authorization": f"Bearer {KEY}"})
    complete(s, marker, headers={"Authorization": f"Bearer {KEY}"})
    log = wait_for_log(s, "POST /v1/completions 200")
    line = next(l for l in log.splitlines() if "POST /v1/chat/completions 200" in l)
    # One access-log line with method, path, status, duration and token counts.
    assert re.search(r"POST /v1/chat/completions 200 \d+B [\d.]+ms prompt_tokens=(\d+) completion_tokens=(\d+)", line)
    assert f"prompt_tokens={usage['prompt_tokens']} completion_tokens={usage['completion_tokens']}" in line
    assert log.count("POST /v1/chat/completions") == 1
    assert marker not in log
    assert KEY not in log
    if len(reply.strip()) >= 12:  # a reply this long is not a word the log would contain anyway
        assert reply.strip() not in log


def test_json_lines(start_server):
    s = start_server(["--log-format", "json"])
    marker = "quokka" + uuid.uuid4().hex[:12]
    _, usage = chat(s, marker)
    wait_for_log(s, '"path":"/v1/chat/completions"')
    entries = [json.loads(line) for line in s.log.splitlines() if line.strip()]  # every line is JSON
    access = [e for e in entries if e.get("path") == "/v1/chat/completions"]
    assert len(access) == 1
    entry = access[0]
    assert entry["method"] == "POST" and entry["status"] == 200 and entry["duration_ms"] > 0
    assert entry["prompt_tokens"] == usage["prompt_tokens"]
    assert entry["completion_tokens"] == usage["completion_tokens"]
    assert any(e.get("level") == "info" and "ready on" in e.get("message", "") for e in entries)
    assert marker not in s.log


def test_log_prompts_logs_request_bodies_but_not_keys(start_server):
    s = start_server(["--log-prompts", "--api-key", KEY])
    marker = "narwhal" + uuid.uuid4().hex[:12]
    chat(s, marker, headers={"Authorization": f"Bearer {KEY}"})
    log = wait_for_log(s, marker)
    debug = [line for line in log.splitlines() if marker in line]
    assert len(debug) == 1 and "debug request body of POST /v1/chat/completions" in debug[0]
    assert "--log-prompts is on" in log
    assert KEY not in log


def test_log_prompts_in_json_lines(start_server):
    s = start_server(["--log-prompts", "--log-format", "json"])
    marker = "axolotl" + uuid.uuid4().hex[:12]
    complete(s, marker)
    wait_for_log(s, marker)
    entries = [json.loads(line) for line in s.log.splitlines() if line.strip()]
    debug = [e for e in entries if e.get("level") == "debug"]
    assert len(debug) == 1 and json.loads(debug[0]["body"])["prompt"] == f"Secret {marker} is"
