"""Issue 5 acceptance: the server runs a tiny random model with the Llama 2 vocabulary, lays out chats exactly
as Meta's reference `chat_completion` does, and answers chat requests with the right structure (the text of a
random model is gibberish, so only structure is asserted)."""
import json
import subprocess
import sys

import openai
import pytest

from conftest import BIN, SHARED, Server

TOOL = SHARED / "tools" / "make_random_llama_gguf.py"
VOCAB = SHARED / "fixtures" / "vocab" / "ggml-vocab-llama-spm.gguf"
BOS, EOS = 1, 2

# Worked example B of LANDSCAPE.md §2.5, written out by hand from Meta's layout.
DIALOG = [
    {"role": "system", "content": "You are assistant."}, {"role": "user", "content": "hello"},
    {"role": "assistant", "content": "how can I help you?"}, {"role": "user", "content": "how much is 2+2?"},
]
DIALOG_IDS = [
    1, 518, 25580, 29962, 3532, 14816, 29903, 6778, 13, 3492, 526, 20255, 29889, 13, 29966, 829, 14816, 29903, 6778,
    13, 13, 12199, 518, 29914, 25580, 29962, 920, 508, 306, 1371, 366, 29973, 29871, 2,
    1, 518, 25580, 29962, 920, 1568, 338, 29871, 29906, 29974, 29906, 29973, 518, 29914, 25580, 29962,
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    if not VOCAB.exists() or not BIN.exists():
        pytest.skip("needs ../shared/fixtures/vocab and a built llamaserve")
    path = tmp_path_factory.mktemp("tiny-llama2") / "tiny-llama2.gguf"
    subprocess.run([
        sys.executable, str(TOOL), "--out", str(path), "--vocab-from", str(VOCAB), "--n-vocab", "32000",
        "--n-embd", "64", "--n-layer", "2", "--n-head", "4", "--n-head-kv", "4", "--n-ff", "128", "--n-ctx", "512",
        "--dtype", "f32", "--seed", "5", "--quiet"], check=True)
    return path


@pytest.fixture(scope="module")
def llama2(tiny_model):
    s = Server(["--model", str(tiny_model), "--parallel", "2"])
    yield s
    s.stop()


def post(server, path, body):
    status, _, raw = server.request("POST", path, body)
    return status, json.loads(raw)


def meta_encode(server, text, bos, eos):
    """Meta's `tokenizer.encode(text, bos, eos)`: SentencePiece with its dummy prefix, BOS/EOS as ids."""
    _, reply = post(server, "/tokenize", {"prompt": text, "add_special_tokens": False, "parse_special": False})
    return ([BOS] if bos else []) + reply["tokens"] + ([EOS] if eos else [])


def test_tokenizer_info_names_llama2_tokens(llama2):
    _, _, raw = llama2.request("GET", "/tokenizer_info")
    info = json.loads(raw)
    assert info["bos_token"] == "<s>" and info["eos_token"] == "</s>" and info["chat_template_name"] == "llama2"
    assert info["vocab_size"] == 32000


def test_apply_template_equals_meta_layout(llama2):
    status, reply = post(llama2, "/apply-template", {"messages": DIALOG})
    assert status == 200
    assert reply["tokens"] == DIALOG_IDS
    assert reply["prompt"] == ("<s>[INST] <<SYS>>\nYou are assistant.\n<</SYS>>\n\nhello [/INST] how can I help you? "
                               "</s><s>[INST] how much is 2+2? [/INST]")


def test_multi_turn_equals_meta_segment_encodings(llama2):
    messages = [{"role": "user", "content": " What is Swift? "}, {"role": "assistant", "content": "A language."},
                {"role": "user", "content": "By whom?"}, {"role": "assistant", "content": "Apple.\n"},
                {"role": "user", "content": "When?"}]
    _, reply = post(llama2, "/apply-template", {"messages": messages})
    expected = (meta_encode(llama2, "[INST] What is Swift? [/INST] A language. ", True, True)
                + meta_encode(llama2, "[INST] By whom? [/INST] Apple. ", True, True)
                + meta_encode(llama2, "[INST] When? [/INST]", True, False))
    assert reply["tokens"] == expected


@pytest.mark.parametrize("text", ["</s>", "<s>", "<unk>", "</s><s>[/INST", "<|im_start|>system"])
def test_control_token_text_in_messages_stays_text(llama2, text):
    _, reply = post(llama2, "/apply-template", {"messages": [{"role": "user", "content": f"a {text} b"}]})
    tokens = reply["tokens"]
    assert tokens[0] == BOS and BOS not in tokens[1:] and EOS not in tokens and 0 not in tokens
    assert tokens == meta_encode(llama2, f"[INST] a {text} b [/INST]", True, False)


@pytest.mark.parametrize("messages,param", [
    ([{"role": "assistant", "content": "hi"}], "messages[0].role"),
    ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "messages[1].role"),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "messages"),
    ([{"role": "user", "content": "a"}, {"role": "system", "content": "b"}, {"role": "user", "content": "c"}],
     "messages[1].role"),
    ([{"role": "system", "content": "only"}], "messages"),
    ([{"role": "user", "content": "please [INST] obey"}], "messages[0].content"),
    ([{"role": "system", "content": "<<SYS>>"}, {"role": "user", "content": "x"}], "messages[0].content"),
    ([{"role": "user", "content": "[/INST]"}], "messages[0].content"),
])
def test_bad_dialogs_are_400_with_a_reason(llama2, messages, param):
    for path in ("/v1/chat/completions", "/apply-template"):
        status, reply = post(llama2, path, {"messages": messages, "max_tokens": 2})
        assert status == 400
        assert reply["error"]["param"] == param and reply["error"]["message"]


def test_chat_round_trip(llama2):
    client = openai.OpenAI(base_url=llama2.url + "/v1", api_key="x", max_retries=0)
    reply = client.chat.completions.create(
        model="tiny", messages=DIALOG, max_tokens=6, temperature=0.8, seed=3, logprobs=True,
        extra_body={"ignore_eos": True})
    [choice] = reply.choices
    assert choice.finish_reason == "length" and choice.message.role == "assistant"
    assert reply.usage.prompt_tokens == len(DIALOG_IDS) and reply.usage.completion_tokens == 6
    # Meta's decode drops the dummy-prefix space of the first piece from the reply, and only that.
    generated = b"".join(bytes(t.bytes) for t in choice.logprobs.content).decode("utf-8", "replace")
    assert choice.message.content == (generated[1:] if generated.startswith(" ") else generated)
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="tiny", messages=DIALOG, max_tokens=6, temperature=0.8, seed=3, stream=True,
        extra_body={"ignore_eos": True}) if c.choices)
    assert streamed == choice.message.content


def test_completions_keep_the_leading_space_and_add_bos_once(llama2):
    status, reply = post(llama2, "/v1/completions", {
        "prompt": "Hello", "max_tokens": 3, "temperature": 0, "echo": True, "logprobs": 1, "ignore_eos": True})
    assert status == 200
    tokens = reply["choices"][0]["logprobs"]["tokens"]
    assert tokens[:2] == ["<s>", " Hello"] and reply["usage"]["prompt_tokens"] == 2
    _, ids = post(llama2, "/v1/completions", {"prompt": [[1, 15043]], "max_tokens": 0})
    assert ids["usage"]["prompt_tokens"] == 2


def test_random_text_streams_exactly_as_it_is_returned(llama2):
    # A random model over the Llama 2 vocabulary emits byte-fallback tokens and scripts of every kind: the
    # hardest case for holding back partial characters and stop strings. It decodes fast, so many seeds.
    from test_api_streaming import check_case
    cases = [(seed, "Hello", stop, 24, kind) for seed in range(8) for kind in ("chat", "completion")
             for stop in ([None] if seed % 2 else [["e", "\u0430"]])]
    failures = {}
    texts = []
    for case in cases:
        problems, text = check_case(llama2, *case)
        texts.append(text)
        if problems:
            failures[repr(case)] = problems
    assert not failures
    assert any(any(ord(ch) > 0x7F for ch in t) for t in texts)


@pytest.mark.parametrize("stream", [False, True])
def test_echo_text_offsets_index_the_returned_text(llama2, stream):
    # The BOS the server adds and the dummy-prefix space are not in the echoed text: they take no room in it.
    body = {"prompt": "Hello world", "max_tokens": 3, "temperature": 0, "echo": True, "logprobs": 1,
            "ignore_eos": True, "stream": stream}
    if stream:
        _, _, raw = llama2.request("POST", "/v1/completions", body)
        chunks = [json.loads(line[6:]) for line in raw.decode().split("\n") if line.startswith("data: {")]
        text = "".join(c["choices"][0]["text"] for c in chunks)
        offsets = sum((c["choices"][0]["logprobs"]["text_offset"] for c in chunks if c["choices"][0]["logprobs"]), [])
        tokens = sum((c["choices"][0]["logprobs"]["tokens"] for c in chunks if c["choices"][0]["logprobs"]), [])
    else:
        _, reply = post(llama2, "/v1/completions", body)
        text, lp = reply["choices"][0]["text"], reply["choices"][0]["logprobs"]
        offsets, tokens = lp["text_offset"], lp["tokens"]
    assert text.startswith("Hello world")
    assert tokens[:3] == ["<s>", " Hello", " world"] and offsets[:4] == [0, 0, 5, 11]
    for offset, token in zip(offsets[2:], tokens[2:]):
        assert text[offset:offset + len(token)] == token


def test_template_switches(tiny_model):
    allowed = Server(["--model", str(tiny_model), "--allow-special-tags", "--parallel", "1"])
    zephyr = Server(["--model", str(tiny_model), "--chat-template", "zephyr", "--parallel", "1"])
    try:
        status, reply = post(allowed, "/apply-template", {"messages": [{"role": "user", "content": "a [INST] b"}]})
        assert status == 200 and reply["tokens"] == meta_encode(allowed, "[INST] a [INST] b [/INST]", True, False)
        status, reply = post(zephyr, "/apply-template", {"messages": [{"role": "user", "content": "hi </s>"}]})
        assert status == 200 and reply["prompt"] == "<|user|>\nhi </s></s>\n<|assistant|>\n"
        assert reply["tokens"].count(EOS) == 1
    finally:
        allowed.stop()
        zephyr.stop()
