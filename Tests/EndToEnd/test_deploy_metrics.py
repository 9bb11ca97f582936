"""`GET /metrics` (issue 7, point 4): Prometheus text that an independent parser (prometheus_client) accepts,
the vLLM-modelled families, and counters that move with requests."""
import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

# Family names as prometheus_client reports them (it drops a counter's `_total`), with their types.
FAMILIES = {
    "llamaserve_requests": "counter",
    "llamaserve_prompt_tokens": "counter",
    "llamaserve_generation_tokens": "counter",
    "llamaserve_time_to_first_token_seconds": "histogram",
    "llamaserve_time_per_output_token_seconds": "histogram",
    "llamaserve_e2e_request_latency_seconds": "histogram",
    "llamaserve_num_requests_running": "gauge",
    "llamaserve_num_requests_waiting": "gauge",
    "llamaserve_kv_cache_usage_perc": "gauge",
    "llamaserve_prefix_cache_queries": "counter",
    "llamaserve_prefix_cache_hits": "counter",
}


@pytest.fixture(scope="module")
def metered():
    """A server of this module's own, so no other test's requests move its counters."""
    from conftest import MODEL, Server, require_model
    require_model()
    s = Server(["--model", str(MODEL), "--ctx-size", "1024", "--parallel", "2"])
    yield s
    s.stop()


def scrape(server):
    status, headers, body = server.request("GET", "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    samples = {}
    for family in families.values():
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return families, samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_parses_as_prometheus_text_with_every_family(metered):
    families, _ = scrape(metered)
    for name, kind in FAMILIES.items():
        assert name in families, name
        assert families[name].type == kind, name
        assert families[name].documentation, name
    assert all(name.startswith("llamaserve_") for name in families)


def test_counters_move_with_requests(metered):
    _, before = scrape(metered)
    status, _, body = metered.request("POST", "/v1/chat/completions", {
        "messages": [{"role": "user", "content": "Count to five."}], "max_tokens": 6, "ignore_eos": True})
    assert status == 200, body
    usage = json.loads(body)["usage"]
    assert metered.request("GET", "/no/such/route")[0] == 404
    _, after = scrape(metered)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("llamaserve_requests_total", route="/v1/chat/completions", status="200") == 1
    assert delta("llamaserve_requests_total", route="other", status="404") == 1
    assert delta("llamaserve_requests_total", route="/metrics", status="200") == 1  # the first scrape
    assert delta("llamaserve_prompt_tokens_total") == usage["prompt_tokens"] > 0
    assert delta("llamaserve_generation_tokens_total") == usage["completion_tokens"] == 6
    for histogram in ["time_to_first_token_seconds", "time_per_output_token_seconds", "e2e_request_latency_seconds"]:
        name = "llamaserve_" + histogram
        assert delta(name + "_count") == 1, name
        assert delta(name + "_sum") > 0, name
        assert delta(name + "_bucket", le="+Inf") == 1, name
    # Idle again: nothing running or waiting.
    assert value(after, "llamaserve_num_requests_running") == 0
    assert value(after, "llamaserve_num_requests_waiting") == 0


def test_histogram_buckets_are_cumulative(metered):
    metered.request("POST", "/v1/completions", {"prompt": "One, two,", "max_tokens": 3})
    families, _ = scrape(metered)
    for name in ["llamaserve_time_to_first_token_seconds", "llamaserve_e2e_request_latency_seconds"]:
        buckets = [(s.labels["le"], s.value) for s in families[name].samples if s.name.endswith("_bucket")]
        counts = [count for _, count in buckets]
        assert counts == sorted(counts) and buckets[-1][0] == "+Inf"
        total = next(s.value for s in families[name].samples if s.name == name + "_count")
        assert counts[-1] == total >= 1


def test_prefix_cache_hits_count_a_repeated_prompt(metered):
    # Long enough to fill whole KV blocks, so the second request can reuse them.
    prompt = "The quick brown fox jumps over the lazy dog. " * 12
    _, before = scrape(metered)
    for _ in range(2):
        status, _, body = metered.request("POST", "/v1/completions", {"prompt": prompt, "max_tokens": 1})
        assert status == 200, body
    _, after = scrape(metered)
    hits = value(after, "llamaserve_prefix_cache_hits_total") - value(before, "llamaserve_prefix_cache_hits_total")
    queries = value(after, "llamaserve_prefix_cache_queries_total") - value(before, "llamaserve_prefix_cache_queries_total")
    assert queries >= hits > 0


def test_kv_cache_usage_is_a_fraction(metered):
    _, samples = scrape(metered)
    assert 0 <= value(samples, "llamaserve_kv_cache_usage_perc") <= 1


def test_metrics_can_be_turned_off(start_server):
    s = start_server(["--no-metrics"])
    assert s.request("GET", "/metrics")[0] == 404
