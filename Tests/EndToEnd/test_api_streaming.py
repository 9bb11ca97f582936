"""Issue 5 acceptance: streaming equals non-streaming byte for byte (seeded sampling over many prompts, stop
strings and lengths, non-ASCII output included), no chunk holds a partial UTF-8 character, and a client that
goes away stops its generation."""
import http.client
import itertools
from concurrent.futures import ThreadPoolExecutor
import json
import re
import socket
import time

import pytest

PROMPTS = [
    "Write one sentence in Chinese about the sea.",
    "Reply with three emoji that describe summer.",
    "Translate 'good morning, my friend' into Japanese, Russian and Greek.",
    "List the first five prime numbers.",
    "Écris une phrase en français sur les crêpes.",
]
STOPS = [None, "\n", [" the", "。"], ["e"], ["zzzz-never"]]
MAX_TOKENS = [1, 7, 24]

# 24 combinations: every prompt, each stop-string choice and each length at least once, plus raw completions.
CASES = [(p, s, m, "chat") for (p, s), m in zip(itertools.product(PROMPTS, STOPS[:4]), itertools.cycle(MAX_TOKENS))]
CASES += [
    ("Le café du matin est", ["é"], 16, "completion"),
    ("The Chinese word for water is", None, 12, "completion"),
    ("🙂🙂🙂 and then", ["zzzz-never"], 10, "completion"),
    (PROMPTS[0], "zzzz-never", 24, "chat"),
]


def raw_stream(server, path, body):
    """The `data:` payloads of a streaming response, parsed (the final `[DONE]` dropped after checking it)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200
    raw = response.read()
    connection.close()
    # Each event must be valid UTF-8 by itself: no chunk ends inside a character.
    data = [line[len(b"data: "):] for line in raw.split(b"\n") if line.startswith(b"data: ")]
    assert data[-1] == b"[DONE]"
    return [json.loads(d.decode("utf-8")) for d in data[:-1]]


def check_case(server, seed, prompt, stop, max_tokens, kind):
    """Runs one case both ways; returns (problems, the non-streamed text)."""
    body = {"max_tokens": max_tokens, "temperature": 0.9, "seed": seed}
    if stop is not None:
        body["stop"] = stop
    if kind == "chat":
        path, body["messages"] = "/v1/chat/completions", [{"role": "user", "content": prompt}]
    else:
        path, body["prompt"] = "/v1/completions", prompt
    status, _, raw = server.request("POST", path, body)
    if status != 200:
        return [f"status {status}: {raw[:200]}"], ""
    whole = json.loads(raw)["choices"][0]
    expected = whole["message"]["content"] if kind == "chat" else whole["text"]

    chunks = raw_stream(server, path, {**body, "stream": True})
    pieces = [c["choices"][0]["delta"].get("content") if kind == "chat" else c["choices"][0]["text"] for c in chunks]
    pieces = [p for p in pieces if p]
    problems = []
    if "".join(pieces).encode() != expected.encode():
        problems.append(f"streamed {pieces!r} != {expected!r}")
    if chunks[-1]["choices"][0]["finish_reason"] != whole["finish_reason"]:
        problems.append(f"finish {chunks[-1]['choices'][0]['finish_reason']} != {whole['finish_reason']}")
    if "\ufffd" not in expected and any("\ufffd" in p for p in pieces):
        problems.append(f"a chunk holds U+FFFD: {pieces!r}")
    for s in [stop] if isinstance(stop, str) else stop or []:
        if s in expected:
            problems.append(f"stop string {s!r} in the output")
    return problems, expected


def test_stream_equals_non_stream(server):
    # Four cases at a time: the server batches them with each other in changing combinations, so this also
    # checks that a seeded result does not depend on what else is running.
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: check_case(server, 70 + i, *CASES[i]), range(len(CASES))))
    failures = {f"case{i} {CASES[i][:2]!r}": problems for i, (problems, _) in enumerate(results) if problems}
    assert not failures
    # At least one case really produced multi-byte characters, or the property proves little about UTF-8.
    texts = [text for _, text in results]
    assert any(any(ord(ch) > 0x7F for ch in t) for t in texts), texts
    assert any(case[1] is not None and result[1] for case, result in zip(CASES, results))


def test_stream_of_two_choices_equals_non_stream(server):
    body = {"messages": [{"role": "user", "content": PROMPTS[1]}], "max_tokens": 12, "temperature": 1, "seed": 3,
            "n": 2}
    _, _, raw = server.request("POST", "/v1/chat/completions", body)
    expected = [c["message"]["content"] for c in json.loads(raw)["choices"]]
    chunks = raw_stream(server, "/v1/chat/completions", {**body, "stream": True})
    got = ["", ""]
    for c in chunks:
        got[c["choices"][0]["index"]] += c["choices"][0]["delta"].get("content") or ""
    assert got == expected


def running(server):
    _, _, raw = server.request("GET", "/metrics")
    return float(re.search(r"^llamaserve_num_requests_running (\S+)$", raw.decode(), re.M).group(1))


def wait_for(condition, seconds=10):
    """Polls `condition` until it holds or `seconds` pass (a bound, not a timing assertion)."""
    deadline = time.time() + seconds
    while not condition() and time.time() < deadline:
        time.sleep(0.05)
    return condition()


@pytest.mark.parametrize("stream", [True, False])
def test_client_disconnect_stops_generation(server, stream):
    assert wait_for(lambda: running(server) == 0)
    body = json.dumps({"messages": [{"role": "user", "content": "Tell me a very long story."}],
                       "max_tokens": 1900, "ignore_eos": True, "stream": stream}).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    if stream:
        received = b""
        while received.count(b"data: ") < 4:
            chunk = sock.recv(4096)
            assert chunk, received
            received += chunk
    assert wait_for(lambda: running(server) == 1)
    sock.close()
    # The engine notices between two decode steps, long before 1900 tokens are done.
    assert wait_for(lambda: running(server) == 0)
