"""The server starts, reports readiness, answers a chat request and drains on SIGTERM."""
import json


def test_health_and_one_chat(server):
    status, _, body = server.request("GET", "/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, _, body = server.request("POST", "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
        "max_tokens": 16, "temperature": 0})
    assert status == 200, body
    reply = json.loads(body)
    assert reply["object"] == "chat.completion"
    # The first token is a near tie for this 135M model ("L'Étoile…" vs "The capital…", 0.09 apart in
    # log-probability, as in llama.cpp), so assert the shape, not the words.
    assert reply["choices"][0]["message"]["content"].strip()
    assert reply["choices"][0]["finish_reason"] in ("stop", "length")
    assert reply["usage"]["completion_tokens"] > 0
