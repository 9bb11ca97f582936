"""SIGTERM drains (issue 7, point 6; RELIABILITY.md T12): a stream in flight when the signal arrives finishes
with `[DONE]`, new connections are refused meanwhile, and the process exits 0; a second signal exits at once, unless it repeats the
first within a second (a process-group kill and make forwarding the same SIGTERM, as `.ci/run` does).
Also: `/health` answers 503 while the model loads (issue 7, point 2)."""
import errno
import http.client
import json
import os
import signal
import socket
import threading
import time

import pytest

from test_deploy_support import wait_for_log

TOKENS = 200  # with ignore_eos the stream is exactly this long: far longer than the signal takes to arrive


def open_stream(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    connection.request("POST", "/v1/chat/completions", json.dumps({
        "messages": [{"role": "user", "content": "Tell me a long story."}], "max_tokens": TOKENS,
        "ignore_eos": True, "stream": True}), {"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200
    return connection, response


def read_event(response):
    """The next SSE data payload (skipping comments and blank lines), or None at the end of the body."""
    while True:
        line = response.readline()
        if not line:
            return None
        line = line.decode().rstrip("\r\n")
        if line.startswith("data: "):
            return line[len("data: "):]


def connection_refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_lets_a_stream_finish_and_exits_0(start_server):
    s = start_server(["--drain-timeout", "600"])
    connection, response = open_stream(s)
    first = read_event(response)
    assert first is not None and first != "[DONE]"

    s.process.send_signal(signal.SIGTERM)
    wait_for_log(s, "draining in-flight requests")
    # The listener is closed before the drain starts: a new client is refused while the stream goes on.
    assert connection_refused(s.port)

    events = [first]
    while (event := read_event(response)) is not None:
        events.append(event)
    connection.close()
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert finish == ["length"] and text

    assert s.process.wait(timeout=600) == 0
    s.thread.join(5)
    log = s.log
    # The stream was still in flight when the signal was handled: its access-log line comes after the drain
    # began, and it is complete.
    drain_at = log.index("draining in-flight requests")
    access = log.index("POST /v1/chat/completions 200")
    assert drain_at < access < log.index("drained; exiting")
    assert f"completion_tokens={TOKENS}" in log[access:].splitlines()[0]
    assert "incomplete" not in log[access:].splitlines()[0]


def test_idle_server_exits_0_on_sigterm_and_sigint(start_server):
    for sig in [signal.SIGTERM, signal.SIGINT]:
        s = start_server([])
        s.process.send_signal(sig)
        assert s.process.wait(timeout=60) == 0
        assert connection_refused(s.port)


def test_second_signal_exits_at_once(start_server):
    s = start_server(["--drain-timeout", "600"])
    connection, response = open_stream(s)
    assert read_event(response) not in (None, "[DONE]")
    s.process.send_signal(signal.SIGTERM)
    wait_for_log(s, "draining in-flight requests")
    time.sleep(1.5)  # past the window in which a repeat counts as the same stop
    s.process.send_signal(signal.SIGTERM)
    # Exits without waiting for the 200-token stream (or the 600 s drain): status 1, the stream cut short.
    assert s.process.wait(timeout=120) == 1
    events = []
    try:
        while (event := read_event(response)) is not None:
            events.append(event)
    except (http.client.IncompleteRead, ConnectionError):
        pass
    connection.close()
    assert "[DONE]" not in events
    assert "second signal: exiting now" in s.log


def test_a_signal_repeated_at_once_still_drains(start_server):
    """The same stop delivered twice, moments apart (a kill of the process group that also holds `make run`, then
    make forwarding the signal to its child), must drain, not exit at once."""
    s = start_server(["--drain-timeout", "600"])
    connection, response = open_stream(s)
    assert read_event(response) not in (None, "[DONE]")
    s.process.send_signal(signal.SIGTERM)
    wait_for_log(s, "draining in-flight requests")
    s.process.send_signal(signal.SIGTERM)
    wait_for_log(s, "the same stop, still draining")
    events = []
    while (event := read_event(response)) is not None:
        events.append(event)
    connection.close()
    assert events[-1] == "[DONE]"
    assert s.process.wait(timeout=120) == 0
    assert "second signal: exiting now" not in s.log


def test_health_is_503_while_the_model_loads(tmp_path, start_server):
    """A FIFO as the model file holds the load at open() until the test writes to it, so "loading" lasts exactly
    as long as the test needs, without sleeping."""
    fifo = tmp_path / "slow.gguf"
    os.mkfifo(fifo)
    s = start_server(["--model", str(fifo)], model=False, wait_ready=False)
    status, headers, body = s.request("GET", "/health")
    assert status == 503 and headers.get("Retry-After") == "5"
    assert json.loads(body) == {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    status, _, body = s.request("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]})
    assert status == 503 and json.loads(body)["error"]["type"] == "unavailable_error"
    # Release the load with an empty file: startup fails with a message and a non-zero status.
    open(fifo, "wb").close()
    assert s.process.wait(timeout=60) != 0
    s.thread.join(5)
    assert "error:" in s.log
