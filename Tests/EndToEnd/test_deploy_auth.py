"""API keys and CORS (issue 7, point 3; RELIABILITY.md T13): 401 in OpenAI's shape on a missing or wrong key,
200 with any configured key, `/health` open; CORS off unless origins are configured, preflight answered only
for them; no key ever in the log."""
import json

import pytest

from test_deploy_support import wait_for_log

KEYS = ["sk-flag-one-8f3a", "sk-flag-two-c41d"]
FILE_KEY = "sk-from-file-77e0"
ORIGIN = "https://app.example"
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """A server with two keys on the command line, one in a key file, and one allowed CORS origin."""
    from conftest import MODEL, Server, require_model
    require_model()
    key_file = tmp_path_factory.mktemp("keys") / "keys.txt"
    key_file.write_text(f"\n  {FILE_KEY}  \n\n")
    s = Server(["--model", str(MODEL), "--api-key", KEYS[0], "--api-key", KEYS[1], "--api-key-file", str(key_file),
                "--cors-origins", ORIGIN])
    yield s
    s.stop()


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def assert_invalid_api_key(status, body):
    assert status == 401, body
    error = json.loads(body)["error"]
    assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
    assert error["param"] is None and "API key" in error["message"]


@pytest.mark.parametrize("headers", [
    {},                                              # no key
    bearer("sk-wrong"),                              # wrong key
    bearer(KEYS[0][:-1]),                            # a prefix of a key
    bearer(KEYS[0] + "x"),                           # a key with more after it
    bearer(KEYS[0] * 2),                             # a key twice
    bearer(KEYS[0] * 17),                            # lengths differing by 256: once matched (the difference
                                                     # was truncated to a byte)
    bearer(""),                                      # empty
    {"Authorization": KEYS[0]},                      # no scheme
    {"Authorization": f"Basic {KEYS[0]}"},           # another scheme
    {"X-API-Key": KEYS[0]},                          # not where OpenAI clients send it
], ids=["missing", "wrong", "prefix", "suffix", "twice", "repeated-256", "empty", "no-scheme", "basic", "x-api-key"])
def test_wrong_or_missing_key_is_401_in_openai_shape(secured, headers):
    assert_invalid_api_key(*secured.request("GET", "/v1/models", headers=headers)[::2])


def test_each_configured_key_is_accepted(secured):
    for key in KEYS + [FILE_KEY]:
        status, _, body = secured.request("GET", "/v1/models", headers=bearer(key))
        assert status == 200, (key, body)


def test_every_api_route_needs_the_key(secured):
    for method, path, body in [
        ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}),
        ("POST", "/v1/completions", {"prompt": "hi", "max_tokens": 1}),
        ("GET", "/v1/models/anything", None), ("POST", "/tokenize", {"content": "hi"}),
        ("POST", "/detokenize", {"tokens": [1]}), ("GET", "/tokenizer_info", None),
        ("POST", "/apply-template", {"messages": []}), ("GET", "/metrics", None), ("GET", "/no/such/route", None),
        ("OPTIONS", "/v1/models", None),
    ]:
        status, _, response = secured.request(method, path, body)
        assert_invalid_api_key(status, response)


def test_a_chat_with_the_right_key_is_200(secured):
    status, _, body = secured.request("POST", "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 4}, headers=bearer(KEYS[1]))
    assert status == 200, body
    assert json.loads(body)["usage"]["completion_tokens"] >= 1


def test_health_is_open(secured):
    for path in ["/health", "/v1/health"]:
        status, _, body = secured.request("GET", path)
        assert status == 200 and json.loads(body) == {"status": "ok"}


def test_metrics_with_the_key(secured):
    status, _, body = secured.request("GET", "/metrics", headers=bearer(KEYS[0]))
    assert status == 200 and b"llamaserve_requests_total" in body


def preflight(server, origin, method="POST"):
    return server.request("OPTIONS", "/v1/chat/completions", headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type"})


def test_preflight_allowed_for_a_configured_origin_without_a_key(secured):
    # Browsers send preflights without credentials, so they must not need the key.
    status, headers, _ = preflight(secured, ORIGIN)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in headers["Access-Control-Allow-Methods"]
    allowed = headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "Access-Control-Allow-Credentials" not in headers


def test_preflight_refused_for_other_origins(secured):
    for origin in [EVIL, ORIGIN + ".evil.example", "null", ORIGIN.upper()]:
        status, headers, _ = preflight(secured, origin)
        assert status == 403, origin
        assert "Access-Control-Allow-Origin" not in headers


def test_responses_carry_cors_only_for_the_allowed_origin(secured):
    _, headers, _ = secured.request("GET", "/v1/models", headers={**bearer(KEYS[0]), "Origin": ORIGIN})
    assert headers["Access-Control-Allow-Origin"] == ORIGIN and "Origin" in headers["Vary"]
    _, headers, _ = secured.request("GET", "/v1/models", headers={**bearer(KEYS[0]), "Origin": EVIL})
    assert "Access-Control-Allow-Origin" not in headers
    _, headers, _ = secured.request("GET", "/health", headers={"Origin": ORIGIN})
    assert headers["Access-Control-Allow-Origin"] == ORIGIN


def test_cors_is_off_by_default(server):
    status, headers, _ = preflight(server, ORIGIN)
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    for path in ["/health", "/v1/models"]:
        _, headers, _ = server.request("GET", path, headers={"Origin": ORIGIN})
        assert not any(name.lower().startswith("access-control-") for name in headers), headers


def test_no_key_reaches_the_log(secured):
    secured.request("GET", "/v1/models", headers=bearer("sk-wrong-key-in-log-check"))
    secured.request("POST", "/tokenize", {"content": "hi"}, headers=bearer(FILE_KEY))
    # The access log is being written (so an absent key means something): both requests are in it.
    wait_for_log(secured, "GET /v1/models 401")
    log = wait_for_log(secured, "POST /tokenize 200")
    for secret in KEYS + [FILE_KEY, "sk-wrong-key-in-log-check"]:
        assert secret not in log


def assert_host_refused(status, body):
    assert status == 403, body
    assert json.loads(body)["error"]["code"] == "host_not_allowed"


def test_loopback_server_refuses_other_host_names(server):
    """DNS rebinding (RELIABILITY.md T13): a page on evil.example re-pointed at 127.0.0.1 sends Host: evil.example."""
    for host in ["evil.example", f"evil.example:{server.port}", "127.0.0.1.evil.example", "localhost.evil.example"]:
        for path in ["/v1/models", "/health"]:
            assert_host_refused(*server.request("GET", path, headers={"Host": host})[::2])
    for host in [f"localhost:{server.port}", f"127.0.0.1:{server.port}", f"[::1]:{server.port}", "LOCALHOST.",
                 "localhost"]:
        assert server.request("GET", "/v1/models", headers={"Host": host})[0] == 200, host


def test_allowed_hosts_adds_names_and_star_turns_the_check_off(start_server):
    s = start_server(["--allowed-hosts", "llm.internal,Proxy.Example"])
    assert s.request("GET", "/v1/models", headers={"Host": "llm.internal:8080"})[0] == 200
    assert s.request("GET", "/v1/models", headers={"Host": "proxy.example"})[0] == 200
    assert s.request("GET", "/v1/models", headers={"Host": "localhost"})[0] == 200
    assert_host_refused(*s.request("GET", "/v1/models", headers={"Host": "evil.example"})[::2])
    s = start_server(["--allowed-hosts", "*"])
    assert s.request("GET", "/v1/models", headers={"Host": "evil.example"})[0] == 200
