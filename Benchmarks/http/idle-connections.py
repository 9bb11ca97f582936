"""Opens N keep-alive connections to HTTPBenchServer, sends one /health request on each, keeps them idle,
checks a fresh client is still served, and reports the server's RSS growth per idle connection.

Usage: idle-connections.py SERVER_PID PORT [N=1000]
"""
import socket
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def request(sock):
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n")
    data = b""
    while not data.endswith(b'{"status":"ok"}'):
        data += sock.recv(4096)
    return data


def main():
    pid, port = int(sys.argv[1]), int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    before = rss_kib(pid)
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        request(s)
        sockets.append(s)
    time.sleep(1)
    during = rss_kib(pid)
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as fresh:
        request(fresh)
    fresh_ms = (time.perf_counter() - start) * 1000
    for s in sockets[::100]:
        request(s)
    print(f"idle: {count} keep-alive connections held; server RSS {before} KiB -> {during} KiB "
          f"({(during - before) * 1024 / count:.0f} bytes per idle connection); a fresh client served in {fresh_ms:.2f} ms")
    for s in sockets:
        s.close()


if __name__ == "__main__":
    main()
