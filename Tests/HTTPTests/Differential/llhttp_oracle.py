"""Differential oracle: parses requests with httptools (Node's llhttp) and reports what it accepted.

Reads one hex-encoded byte stream per line on stdin; writes one JSON object per line on stdout:
{"bodies": [len, ...] (complete messages in order), "error": null or the llhttp error text}.
"""
import json
import sys

import httptools


class Recorder:
    def __init__(self):
        self.bodies = []
        self.current = 0

    def on_message_begin(self):
        self.current = 0

    def on_body(self, body):
        self.current += len(body)

    def on_message_complete(self):
        self.bodies.append(self.current)


def run(data):
    recorder = Recorder()
    parser = httptools.HttpRequestParser(recorder)
    try:
        parser.feed_data(data)
    except httptools.HttpParserUpgrade:
        return {"bodies": recorder.bodies, "error": "upgrade"}
    except httptools.HttpParserError as error:
        return {"bodies": recorder.bodies, "error": str(error) or type(error).__name__}
    return {"bodies": recorder.bodies, "error": None}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--version":
        print(httptools.__version__)
        return
    for line in sys.stdin:
        print(json.dumps(run(bytes.fromhex(line.strip()))), flush=False)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
