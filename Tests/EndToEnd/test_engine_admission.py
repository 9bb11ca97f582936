"""Issue 6: a full queue answers 429 with Retry-After at once; requests start in arrival order."""
import json
import socket
import threading
import time


def open_stream(server, max_tokens):
    """Starts a streaming chat request on a raw socket and returns the socket once headers arrived."""
    body = json.dumps({"messages": [{"role": "user", "content": "Count slowly."}], "max_tokens": max_tokens,
                       "stream": True, "ignore_eos": True, "temperature": 0}).encode()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
              + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return s


def test_full_queue_is_refused_with_429_and_retry_after(start_server):
    server = start_server(["--parallel", "1", "--max-queue", "1"])
    running = open_stream(server, 400)
    running.recv(4096)  # headers (and the role chunk) of the running stream
    queued = open_stream(server, 4)
    time.sleep(0.5)  # let the second request reach the queue
    started = time.perf_counter()
    status, headers, body = server.request("POST", "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4})
    elapsed = time.perf_counter() - started
    assert status == 429, body
    assert int(headers["Retry-After"]) >= 1
    error = json.loads(body)["error"]
    assert error["type"] == "rate_limit_error" and error["message"]
    assert elapsed < 1.0  # refused at once, not after waiting
    running.close()
    queued.close()
    # Once the running stream is gone the server admits work again.
    deadline = time.time() + 30
    while time.time() < deadline:
        status, _, _ = server.request("POST", "/v1/chat/completions", {
            "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200


def test_requests_start_in_arrival_order(start_server):
    server = start_server(["--parallel", "1", "--max-queue", "16"])
    order = []
    lock = threading.Lock()

    def ask(i):
        status, _, body = server.request("POST", "/v1/completions", {
            "prompt": f"Item {i}:", "max_tokens": 3, "temperature": 0})
        assert status == 200, body
        with lock:
            order.append(i)

    threads = []
    for i in range(5):
        t = threading.Thread(target=ask, args=(i,))
        t.start()
        threads.append(t)
        time.sleep(0.15)  # distinct arrival times
    for t in threads:
        t.join()
    assert order == sorted(order)
