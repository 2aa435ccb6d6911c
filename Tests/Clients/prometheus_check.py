"""Parses the daemon's /metrics with prometheus_client's text parser (PyPI) and checks that its counters move
with the calls made between two scrapes.

Usage: prometheus_check.py HOST:PORT USERNAME PASSWORD
"""
import base64
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def get(url, auth=None):
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers.get("Content-Type"), response.read().decode()


def scrape(host):
    content_type, text = get("http://%s/metrics" % host)
    families = {family.name: family for family in text_string_to_metric_families(text)}
    return content_type, families


def value(families, family, sample, **labels):
    for s in families[family].samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0.0


def main():
    host, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
    content_type, before = scrape(host)
    assert content_type.startswith("text/plain; version=0.0.4"), content_type
    # prometheus_client names a counter family without its _total suffix.
    expected = {
        "switchboard_calls": "counter", "switchboard_call_duration_seconds": "histogram",
        "switchboard_connections": "gauge", "switchboard_sessions": "gauge", "switchboard_events_published": "counter",
        "switchboard_events_delivered": "counter", "switchboard_slow_consumers_closed": "counter",
        "switchboard_outbound_dropped": "counter", "switchboard_workers": "gauge", "switchboard_plugins": "gauge",
        "switchboard_datastore_duration_seconds": "histogram", "process_resident_memory_bytes": "gauge",
        "process_open_fds": "gauge", "process_max_fds": "gauge",
    }
    for name, kind in expected.items():
        assert name in before, "no family %s in %s" % (name, sorted(before))
        assert before[name].type == kind, "%s is %s, not %s" % (name, before[name].type, kind)
    calls = dict(method="system.info", dialect="rest", result="ok")
    start = value(before, "switchboard_calls", "switchboard_calls_total", **calls)
    started = value(before, "switchboard_call_duration_seconds", "switchboard_call_duration_seconds_count", method="system.info")
    for _ in range(5):
        get("http://%s/api/v2.0/system/info" % host, auth="%s:%s" % (user, password))
    _, after = scrape(host)
    moved = value(after, "switchboard_calls", "switchboard_calls_total", **calls) - start
    timed = value(after, "switchboard_call_duration_seconds", "switchboard_call_duration_seconds_count", method="system.info") - started
    assert moved == 5, "system.info over REST moved by %s" % moved
    assert timed == 5, "its latency histogram counted %s" % timed
    inf = value(after, "switchboard_call_duration_seconds", "switchboard_call_duration_seconds_bucket", method="system.info", le="+Inf")
    assert inf == value(after, "switchboard_call_duration_seconds", "switchboard_call_duration_seconds_count", method="system.info")
    print("prometheus text: parsed, %d families; system.info counted %d, timed %d" % (len(after), moved, timed))
    print("done")


main()
