"""The example config's metrics for synthetic services, as OpenMetrics samples:
what scripts/bench-serve.sh and scripts/bench-rules.sh backfill. Every service
serves 1,000 requests a step (one in a thousand a 5xx; 80 % under 100 ms, 96 %
under 200 ms, 99 % under 500 ms), is always up and hits its cache 95 % of the time."""

BUCKETS = [("0.1", 0.80), ("0.2", 0.96), ("0.5", 0.99), ("+Inf", 1.0)]


def write(out, services, times):
    """Writes the samples of `services` at `times` (unix seconds) to `out`."""

    def counter(name, labels, per_step):
        for i, t in enumerate(times):
            out.write(f"{name}{{{labels}}} {i * per_step} {t}\n")

    out.write("# TYPE http_requests counter\n")
    for s in services:
        counter("http_requests_total", f'service="{s}",code="200"', 999)
        counter("http_requests_total", f'service="{s}",code="500"', 1)
    out.write("# TYPE http_request_duration_seconds histogram\n")
    for s in services:
        for le, share in BUCKETS:
            counter("http_request_duration_seconds_bucket", f'service="{s}",le="{le}"', round(1000 * share))
        counter("http_request_duration_seconds_count", f'service="{s}"', 1000)
    out.write("# TYPE up gauge\n")
    for s in services:
        for t in times:
            out.write(f'up{{job="{s}"}} 1 {t}\n')
    for name, per_step in (("cache_hits", 95), ("cache_misses", 5)):
        out.write(f"# TYPE {name} counter\n")
        for s in services:
            counter(f"{name}_total", f'service="{s}"', per_step)
