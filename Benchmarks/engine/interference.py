#!/usr/bin/env python3
"""Issue 6: with 8 streams running, a request with a 1500-token prompt arrives; report the largest gap between
two tokens of any running stream (chunked prefill should keep it under 0.5 s).

Usage: Benchmarks/engine/interference.py URL   (a server started with --parallel 9 or more)
"""
import json
import sys
import threading
import time
import urllib.request

URL = sys.argv[1].rstrip("/")
WORDS = "the quick brown fox jumps over the lazy dog while a curious cat watches from the warm windowsill".split()


def stream(prompt, max_tokens, gaps, started, index):
    body = json.dumps({"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
                       "stream": True, "temperature": 0, "ignore_eos": True}).encode()
    request = urllib.request.Request(URL + "/v1/chat/completions", data=body, headers={"Content-Type": "application/json"})
    last = None
    with urllib.request.urlopen(request, timeout=600) as response:
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                now = time.perf_counter()
                if last is not None:
                    gaps.append((now, now - last, index))
                last = now
                started.set()


def main():
    gaps = []
    events = [threading.Event() for _ in range(8)]
    threads = [threading.Thread(target=stream, args=(f"Stream {i}: tell a long story.", 400, gaps, events[i], i))
               for i in range(8)]
    for t in threads:
        t.start()
    for e in events:
        e.wait(120)
    time.sleep(2)
    long_prompt = " ".join(WORDS[i % len(WORDS)] for i in range(1400))
    arrival = time.perf_counter()
    long_gaps = []
    big = threading.Thread(target=stream, args=(long_prompt, 8, long_gaps, threading.Event(), 8))
    big.start()
    big.join()
    done = time.perf_counter()
    for t in threads:
        t.join()
    window = [g for (when, g, _) in gaps if arrival <= when <= done + 0.5]
    print(json.dumps({
        "long_prompt_request_seconds": round(done - arrival, 3),
        "max_gap_during_long_prefill_s": round(max(window), 3) if window else None,
        "max_gap_overall_s": round(max(g for (_, g, _) in gaps), 3),
        "median_gap_s": round(sorted(g for (_, g, _) in gaps)[len(gaps) // 2], 4),
    }))


main()
