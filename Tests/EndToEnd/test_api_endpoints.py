"""Issue 5 acceptance: every endpoint of the OpenAI-compatible API, through the official `openai` client where
it has a method for it, against the session server with the default model (SmolLM2-135M-Instruct)."""
import http.client
import json

import openai
import pytest

CHAT = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=120)


def sse_events(server, path, body):
    """Posts a streaming request and returns (response headers, the raw `data:` payloads in order)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200
    raw = response.read().decode()
    connection.close()
    # Every event is `data: …` followed by a blank line; SSE comments (`: ping`) may appear between them.
    events = [block for block in raw.split("\n\n") if block]
    assert raw.endswith("\n\n")
    data = []
    for block in events:
        if block.startswith(":"):
            continue
        assert block.startswith("data: ") and "\n" not in block, block
        data.append(block[len("data: "):])
    return dict(response.getheaders()), data


# MARK: - Chat


def test_chat_non_streaming(client, server):
    reply = client.chat.completions.create(model="anything", messages=CHAT, max_tokens=12, temperature=0)
    assert reply.object == "chat.completion"
    assert reply.id.startswith("chatcmpl-") and reply.created > 0
    assert reply.model == "SmolLM2-135M-Instruct.Q4_1"
    [choice] = reply.choices
    assert choice.index == 0 and choice.message.role == "assistant"
    # This chat's first token is a near tie for the 135M model ("L'Étoile…" or "The capital…", as llama.cpp
    # picks), so check that there is a reply, not its words.
    assert choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")
    usage = reply.usage
    assert usage.prompt_tokens == len(apply_template(server, CHAT)["tokens"])
    assert 0 < usage.completion_tokens <= 12
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_chat_streaming_event_order(server):
    headers, data = sse_events(server, "/v1/chat/completions", {
        "messages": CHAT, "max_tokens": 8, "temperature": 0, "stream": True})
    assert headers["Content-Type"].startswith("text/event-stream")
    assert headers["X-Accel-Buffering"] == "no"
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    # The role first, then content deltas, then one chunk with the finish reason; no usage unless asked.
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all("role" not in c["choices"][0]["delta"] for c in chunks[1:])
    reasons = [c["choices"][0]["finish_reason"] for c in chunks]
    assert reasons[:-1] == [None] * (len(chunks) - 1) and reasons[-1] in ("stop", "length")
    assert chunks[-1]["choices"][0]["delta"] == {}
    assert all("usage" not in c or c["usage"] is None for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text.strip()


def test_chat_stream_usage_chunk_comes_last_with_empty_choices(client):
    stream = client.chat.completions.create(
        model="m", messages=CHAT, max_tokens=6, temperature=0, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 6
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + 6
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-2].choices[0].finish_reason == "length"


def test_chat_stream_matches_non_streaming_through_the_client(client):
    kwargs = dict(model="m", messages=CHAT, max_tokens=20, temperature=0.7, seed=11)
    whole = client.chat.completions.create(**kwargs).choices[0]
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(stream=True, **kwargs)
                       if c.choices)
    assert streamed == whole.message.content


def test_chat_n2_gives_two_independent_choices(client):
    reply = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "Tell me a story."}], max_tokens=16, n=2, temperature=1.2,
        seed=5)
    assert [c.index for c in reply.choices] == [0, 1]
    assert reply.choices[0].message.content != reply.choices[1].message.content
    assert reply.usage.completion_tokens == 32


def test_chat_n2_streams_both_choices(client):
    chunks = list(client.chat.completions.create(
        model="m", messages=CHAT, max_tokens=5, n=2, temperature=1, seed=9, stream=True))
    finishes = sorted(c.choices[0].index for c in chunks if c.choices and c.choices[0].finish_reason)
    assert finishes == [0, 1]
    roles = sorted(c.choices[0].index for c in chunks if c.choices and c.choices[0].delta.role)
    assert roles == [0, 1]


def test_seed_reproduces_sampling(client):
    kwargs = dict(model="m", messages=[{"role": "user", "content": "Name a colour."}], max_tokens=8,
                  temperature=1.5, top_p=0.95, seed=1234)
    first = client.chat.completions.create(**kwargs).choices[0].message.content
    second = client.chat.completions.create(**kwargs).choices[0].message.content
    assert first == second
    others = {client.chat.completions.create(**{**kwargs, "seed": s}).choices[0].message.content for s in (1, 2)}
    assert len(others | {first}) > 1


def test_stop_strings_are_cut_and_reported(client):
    messages = [{"role": "user", "content": "Count from 1 to 10, separated by commas."}]
    full = client.chat.completions.create(model="m", messages=messages, max_tokens=20, temperature=0)
    text = full.choices[0].message.content
    assert "4, 5" in text, text
    # A stop string that spans several tokens ("4, 5") and one inside a token; neither appears in the output.
    for stop in (["4, 5"], "5", ["zzz", ", 3"]):
        reply = client.chat.completions.create(model="m", messages=messages, max_tokens=20, temperature=0, stop=stop)
        content = reply.choices[0].message.content
        first = min(text.find(s) for s in ([stop] if isinstance(stop, str) else stop) if s in text)
        assert content == text[:first]
        assert reply.choices[0].finish_reason == "stop"


def test_chat_logprobs(client):
    reply = client.chat.completions.create(
        model="m", messages=CHAT, max_tokens=4, temperature=0, logprobs=True, top_logprobs=3)
    content = reply.choices[0].logprobs.content
    assert len(content) == reply.usage.completion_tokens
    for entry in content:
        assert entry.logprob <= 0 and len(entry.top_logprobs) == 3
        assert bytes(entry.bytes).decode("utf-8", "replace") == entry.token
        # Greedy decoding picks the most likely token: it heads its own alternatives with the same value.
        assert entry.top_logprobs[0].token == entry.token and entry.top_logprobs[0].logprob == entry.logprob
    # The first piece lost nothing: the content is the tokens joined (SmolLM2 has no dummy-prefix space).
    assert "".join(e.token for e in content) == reply.choices[0].message.content


def test_max_completion_tokens_wins_over_max_tokens(client):
    reply = client.chat.completions.create(
        model="m", messages=CHAT, max_tokens=2, max_completion_tokens=3, temperature=0, extra_body={"ignore_eos": True})
    assert reply.usage.completion_tokens == 3


def test_unknown_fields_and_extensions_are_accepted(client):
    reply = client.chat.completions.create(
        model="m", messages=CHAT, max_tokens=3, temperature=0.5, user="u-1", presence_penalty=0.5,
        frequency_penalty=0.5, logit_bias={"42": -100},
        extra_body={"top_k": 20, "min_p": 0.05, "repetition_penalty": 1.1, "ignore_eos": True, "whatever": [1, {}]})
    assert reply.usage.completion_tokens == 3


def test_logit_bias_forces_a_token(client, server):
    [token] = tokenize(server, " banana")
    reply = client.chat.completions.create(
        model="m", messages=CHAT, max_tokens=3, temperature=1, seed=1, logit_bias={str(token): 100})
    # SmolLM2 is byte-level BPE: no dummy-prefix space to drop, so the reply keeps the token's own space.
    assert reply.choices[0].message.content == " banana banana banana"


# MARK: - Completions


def test_completion_string_prompt(client):
    reply = client.completions.create(model="m", prompt="The capital of France is", max_tokens=5, temperature=0)
    assert reply.object == "text_completion" and reply.id.startswith("cmpl-")
    [choice] = reply.choices
    assert choice.index == 0 and "Paris" in choice.text and choice.finish_reason == "length"
    # Completions keep the leading space of the first piece.
    assert choice.text.startswith(" ")
    assert reply.usage.completion_tokens == 5


def test_completion_array_of_strings_and_n(client):
    reply = client.completions.create(
        model="m", prompt=["The capital of France is", "One, two, three,"], max_tokens=4, temperature=0, n=2)
    assert [c.index for c in reply.choices] == [0, 1, 2, 3]
    # Greedy: both choices of one prompt agree; the two prompts do not.
    assert reply.choices[0].text == reply.choices[1].text != reply.choices[2].text == reply.choices[3].text
    assert "Paris" in reply.choices[0].text and "four" in reply.choices[2].text
    assert reply.usage.completion_tokens == 16


def test_completion_token_ids_get_no_extra_bos(client, server):
    ids = tokenize(server, "The capital of France is")
    by_text = client.completions.create(model="m", prompt="The capital of France is", max_tokens=4, temperature=0)
    by_ids = client.completions.create(model="m", prompt=ids, max_tokens=4, temperature=0)
    assert by_ids.usage.prompt_tokens == len(ids)
    assert by_ids.choices[0].text == by_text.choices[0].text
    nested = client.completions.create(model="m", prompt=[ids, ids[:3]], max_tokens=4, temperature=0)
    assert nested.usage.prompt_tokens == len(ids) + 3
    assert nested.choices[0].text == by_text.choices[0].text


def test_completion_echo_with_prompt_logprobs(client, server):
    # lm-evaluation-harness's loglikelihood request, verbatim in shape.
    ids = tokenize(server, "The capital of France is Paris")
    reply = client.completions.create(
        model="m", prompt=[ids], max_tokens=1, temperature=0, logprobs=1, echo=True, seed=1234)
    [choice] = reply.choices
    lp = choice.logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) == len(ids) + 1
    assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None
    assert all(v <= 0 for v in lp.token_logprobs[1:])
    for token, value, top in zip(lp.tokens[1:], lp.token_logprobs[1:], lp.top_logprobs[1:]):
        # The chosen token is among its alternatives with exactly its own value (lm-eval's is_greedy uses ==).
        assert top[token] == value
        assert len(top) in (1, 2)
    assert "".join(lp.tokens) == choice.text
    assert choice.text.startswith("The capital of France is Paris")
    # text_offset indexes the returned text.
    assert all(choice.text[o:o + len(t)] == t for o, t in zip(lp.text_offset, lp.tokens))


def test_completion_streamed_logprobs_equal_the_whole_ones(server):
    body = {"prompt": "Once upon a time", "max_tokens": 6, "temperature": 0, "logprobs": 2, "echo": True}
    _, _, raw = server.request("POST", "/v1/completions", body)
    whole = json.loads(raw)["choices"][0]["logprobs"]
    _, data = sse_events(server, "/v1/completions", {**body, "stream": True})
    merged = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
    for chunk in [json.loads(d) for d in data[:-1]]:
        for key in merged:
            merged[key] += (chunk["choices"][0]["logprobs"] or {}).get(key, [])
    assert merged == whole


def test_completion_max_tokens_zero_scores_the_prompt_only(server):
    ids = tokenize(server, "One, two, three, four")
    status, _, body = server.request("POST", "/v1/completions", {
        "prompt": ids, "max_tokens": 0, "echo": True, "logprobs": 5})
    assert status == 200, body
    choice = json.loads(body)["choices"][0]
    assert len(choice["logprobs"]["token_logprobs"]) == len(ids)
    assert choice["text"] == "One, two, three, four"
    assert json.loads(body)["usage"]["completion_tokens"] == 0
    # Counting is easy for this model: " four" is the most likely continuation of "One, two, three,".
    assert max(choice["logprobs"]["top_logprobs"][-1].values()) == choice["logprobs"]["token_logprobs"][-1]


def test_completion_streaming(server):
    headers, data = sse_events(server, "/v1/completions", {
        "prompt": "The capital of France is", "max_tokens": 5, "temperature": 0, "stream": True,
        "stream_options": {"include_usage": True}})
    assert headers["X-Accel-Buffering"] == "no" and data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 5
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    text = "".join(c["choices"][0]["text"] for c in chunks[:-1])
    status, _, body = server.request("POST", "/v1/completions", {
        "prompt": "The capital of France is", "max_tokens": 5, "temperature": 0})
    assert text == json.loads(body)["choices"][0]["text"]


# MARK: - Models, health, tokenizer endpoints


def test_models_list_and_lookup(client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["SmolLM2-135M-Instruct.Q4_1"]
    assert models.data[0].object == "model"
    assert client.models.retrieve("SmolLM2-135M-Instruct.Q4_1").id == "SmolLM2-135M-Instruct.Q4_1"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4")


def test_health(server):
    status, _, body = server.request("GET", "/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}


def test_tokenize_and_detokenize_in_both_shapes(server):
    _, _, body = server.request("POST", "/tokenize", {"content": "Hello world"})
    llama_cpp = json.loads(body)["tokens"]
    _, _, body = server.request("POST", "/tokenize", {"prompt": "Hello world", "add_special_tokens": False})
    vllm = json.loads(body)
    assert vllm["tokens"] == llama_cpp and vllm["count"] == len(llama_cpp) and vllm["max_model_len"] == 2048
    _, _, body = server.request("POST", "/tokenize", {"content": "Hello", "with_pieces": True})
    assert json.loads(body)["tokens"] == [{"id": llama_cpp[0], "piece": "Hello"}]
    # Special-token text is parsed in /tokenize (lm-eval derives the EOS id from it), unlike chat content.
    _, _, body = server.request("POST", "/tokenize", {"prompt": "<|im_end|>", "add_special_tokens": False})
    assert json.loads(body)["tokens"] == [2]
    status, _, body = server.request("POST", "/detokenize", {"tokens": llama_cpp})
    assert status == 200 and json.loads(body) == {"content": "Hello world", "prompt": "Hello world"}


def test_tokenizer_info(server):
    status, _, body = server.request("GET", "/tokenizer_info")
    info = json.loads(body)
    assert status == 200
    assert info["bos_token"] == "<|im_start|>" and info["eos_token"] == "<|im_end|>"
    assert "<|im_start|>" in info["chat_template"] and info["chat_template_name"] == "chatml"
    assert info["vocab_size"] == 49152 and info["model_max_length"] == 2048


def test_apply_template_shows_what_the_model_sees(server):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    result = apply_template(server, messages)
    assert result["prompt"] == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    status, _, body = server.request("POST", "/tokenize", {"content": result["prompt"], "parse_special": True})
    assert json.loads(body)["tokens"] == result["tokens"]
    # Without a system message, SmolLM2's template inserts its default one.
    default = apply_template(server, [{"role": "user", "content": "Hi"}])["prompt"]
    assert default.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")


# MARK: - Helpers


def tokenize(server, text):
    status, _, body = server.request("POST", "/tokenize", {"prompt": text, "add_special_tokens": False})
    assert status == 200, body
    return json.loads(body)["tokens"]


def apply_template(server, messages):
    status, _, body = server.request("POST", "/apply-template", {"messages": messages})
    assert status == 200, body
    return json.loads(body)
