"""Probes GET /health on a fresh connection at a fixed rate and reports latency percentiles.

Usage: probe.py PORT SECONDS [RATE_HZ=20]. Prints one summary line: count, failures, p50/p99/max in ms.
"""
import socket
import sys
import time


def once(port):
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    if not data.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(data[:40])
    return (time.perf_counter() - start) * 1000


def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
    latencies, failures = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        tick = time.monotonic()
        try:
            latencies.append(once(port))
        except Exception:
            failures += 1
        time.sleep(max(0.0, 1 / rate - (time.monotonic() - tick)))
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")
    print(f"probe: {len(latencies)} ok, {failures} failed, p50 {pick(0.5):.2f} ms, p99 {pick(0.99):.2f} ms, max {pick(1.0):.2f} ms")


if __name__ == "__main__":
    main()
