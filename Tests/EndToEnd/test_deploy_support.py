"""Helpers shared by the test_deploy_* files (no tests here; the name keeps it within the deploy files)."""
import time


def wait_for_log(server, text, timeout=60):
    """Waits until `text` is in the server's log and returns the log.

    The access-log line of a request is written after its response is queued, so a client can see the response
    before the line exists; the timeout only bounds a failure, no assertion depends on it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log
        if text in log:
            return log
        if server.process.poll() is not None:
            server.thread.join(5)
            if text in server.log:
                return server.log
            break
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in the log:\n{server.log}")
