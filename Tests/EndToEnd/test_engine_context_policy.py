"""Issue 6: a chat longer than the context is refused (policy error) or trimmed from the oldest turns, keeping
the system prompt and the last user message (policy truncate)."""
import json

HISTORY = [{"role": "system", "content": "You are a pirate. Always say 'Arr'."}]
for i in range(12):
    HISTORY.append({"role": "user", "content": f"Question {i}: " + "tell me about the sea " * 10})
    HISTORY.append({"role": "assistant", "content": f"Answer {i}: " + "the sea is wide and deep " * 10})
HISTORY.append({"role": "user", "content": "What is your favourite ship?"})


def test_error_policy_answers_context_length_exceeded(start_server):
    server = start_server(["--ctx-size", "512"])
    status, _, body = server.request("POST", "/v1/chat/completions", {"messages": HISTORY, "max_tokens": 32})
    assert status == 400
    error = json.loads(body)["error"]
    assert error["code"] == "context_length_exceeded" and "512" in error["message"]


def test_truncate_policy_keeps_the_system_prompt_and_the_last_message(start_server):
    server = start_server(["--ctx-size", "512", "--context-policy", "truncate"])
    status, _, body = server.request("POST", "/v1/chat/completions", {"messages": HISTORY, "max_tokens": 32})
    assert status == 200, body
    usage = json.loads(body)["usage"]
    assert usage["prompt_tokens"] + 32 <= 512
    # The prompt the model saw: what /apply-template gives for system + the turns that fit + the last message.
    kept = [HISTORY[0]] + HISTORY[-1:]
    _, _, minimal = server.request("POST", "/apply-template", {"messages": kept})
    assert usage["prompt_tokens"] >= len(json.loads(minimal)["tokens"])
