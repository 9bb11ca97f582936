#!/usr/bin/env python3
"""Issue 6: a second request sharing a ~500-token system prompt with an earlier one should see a time to first
token at most a third of the first's (prefix cache). Prints both TTFTs and their ratio.

Usage: Benchmarks/engine/prefix-ttft.py URL
"""
import json
import sys
import time
import urllib.request

URL = sys.argv[1].rstrip("/")
SYSTEM = ("You are a meticulous assistant for a library. " * 60).strip()


def ttft(question):
    body = json.dumps({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
                       "max_tokens": 4, "stream": True, "temperature": 0}).encode()
    request = urllib.request.Request(URL + "/v1/chat/completions", data=body, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        for raw in response:
            line = raw.decode().strip()
            if line.startswith("data: {"):
                chunk = json.loads(line[6:])
                if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                    return time.perf_counter() - start
    return time.perf_counter() - start


first = ttft("Which books are overdue?")
second = ttft("When does the library open?")
print(json.dumps({"system_prompt_words": len(SYSTEM.split()), "first_ttft_s": round(first, 3),
                  "second_ttft_s": round(second, 3), "ratio": round(second / first, 3)}))
