#!/usr/bin/env python3
"""Annotate loadgen results and print the gateway benchmark table.

Subcommands (called by bench/gateway/run):
  annotate RUN_JSON NAME THROUGH_GATEWAY RSS_KB HWM_KB CPU_TICKS CLOCK_TICKS WARMUP [METRICS_BEFORE METRICS_AFTER]
      prints RUN_JSON as one JSON line with the case name, the target, the
      gateway's memory, its CPU time per request and the /metrics overhead
      percentiles added. The CPU ticks cover the warm-up too, so the warm-up
      requests count in the per-request figure.
  line        reads one annotated JSON line on stdin and prints a short summary
  table RESULTS_JSONL IDLE_RSS_KB END_RSS_KB GATEWAY_CPU CLIENT_CPU
      prints the Markdown table
"""

import json
import re
import sys

OVERHEAD_BUCKET = re.compile(
    r'^weir_gateway_overhead_seconds_bucket\{route="/v1/chat/completions",le="([^"]+)"\} (\S+)$')

# A rate counts as sustained when every request succeeded, the sender kept up
# and p99 through the gateway stayed below this bound.
SUSTAINED_P99_US = 5000


def overhead_buckets(path):
    buckets = {}
    with open(path) as metrics:
        for line in metrics:
            match = OVERHEAD_BUCKET.match(line.strip())
            if match:
                buckets[float(match.group(1))] = float(match.group(2))
    return buckets


def bucket_percentile(before, after, quantile):
    """Return the upper bound in microseconds of the bucket holding the quantile, or None."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0) for b in bounds]
    total = counts[-1] if counts else 0
    if total <= 0:
        return None
    for bound, cumulative in zip(bounds, counts):
        if cumulative >= quantile * total:
            return bound * 1e6
    return None


def annotate(run_json, name, through_gateway, rss_kb, hwm_kb, cpu_ticks, clock_ticks, warmup, *metrics):
    with open(run_json) as run:
        result = json.load(run)
    result["case"] = name
    result["target"] = "weir" if through_gateway == "true" else "direct"
    if rss_kb:
        result["rss_kb"] = int(rss_kb)
    if hwm_kb:
        result["hwm_kb"] = int(hwm_kb)
    if cpu_ticks:
        warmup_requests = result["rate"] * float(warmup.rstrip("s"))
        requests = result["requests"] + warmup_requests
        result["cpu_us_per_request"] = int(cpu_ticks) / int(clock_ticks) * 1e6 / requests
    if metrics:
        before, after = overhead_buckets(metrics[0]), overhead_buckets(metrics[1])
        result["metrics_overhead_us"] = {
            "count": (after.get(float("inf"), 0) - before.get(float("inf"), 0)),
            "p50_bucket": bucket_percentile(before, after, 0.50),
            "p99_bucket": bucket_percentile(before, after, 0.99),
        }
    print(json.dumps(result))


def line():
    r = json.loads(sys.stdin.readline())
    latency = r["latency_us"]
    print(f"  {r['case']:<20} {r['target']:<6} rate={r['rate']:<6} ok={r['ok']:<7} errors={r['errors']:<6} "
          f"p50={latency['p50']:.0f}us p99={latency['p99']:.0f}us send_lag_p99={r['send_lag_us']['p99']:.0f}us"
          + (f" rss={r['rss_kb'] / 1024:.1f}MiB" if "rss_kb" in r else "")
          + (f" cpu={r['cpu_us_per_request']:.0f}us/request" if "cpu_us_per_request" in r else ""))


def format_us(value):
    return "-" if value is None else f"{value:.0f}"


def sustained(row):
    return (row["errors"] == 0 and row["achieved_rate"] >= 0.99 * row["rate"]
            and row["latency_us"]["p99"] <= SUSTAINED_P99_US)


def table(results_path, idle_kb, end_kb, gateway_cpu, client_cpu):
    rows = [json.loads(text) for text in open(results_path) if text.strip()]
    direct = {(r["case"], r["rate"]): r for r in rows if r["target"] == "direct"}
    print(f"Gateway on CPU {gateway_cpu} (threads: 1); simulator and load generator on CPU {client_cpu}.")
    print("Latencies in microseconds, measured from the scheduled send time. "
          "Added = percentile through Weir minus the same percentile direct.\n")
    print("| case | rate/s | direct p50 / p99 | Weir p50 / p99 | added p50 / p99 | header p50 / p99 "
          "| /metrics p50 / p99 bucket | errors direct / Weir | Weir achieved/s | Weir CPU µs/request "
          "| loadgen send lag p99 | Weir RSS / VmHWM MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    best = {}
    for r in rows:
        if r["target"] != "weir":
            continue
        d = direct.get((r["case"], r["rate"]))
        w = r["latency_us"]
        header = r.get("overhead_header_us") or {}
        metrics = r.get("metrics_overhead_us") or {}
        added = (f"{w['p50'] - d['latency_us']['p50']:.0f} / {w['p99'] - d['latency_us']['p99']:.0f}"
                 if d else "-")
        direct_text = f"{d['latency_us']['p50']:.0f} / {d['latency_us']['p99']:.0f}" if d else "-"
        print(f"| {r['case']} | {r['rate']} | {direct_text} | {w['p50']:.0f} / {w['p99']:.0f} | {added} "
              f"| {format_us(header.get('p50'))} / {format_us(header.get('p99'))} "
              f"| ≤{format_us(metrics.get('p50_bucket'))} / ≤{format_us(metrics.get('p99_bucket'))} "
              f"| {d['errors'] if d else '-'} / {r['errors']} | {r['achieved_rate']:.0f} "
              f"| {format_us(r.get('cpu_us_per_request'))} "
              f"| {r['send_lag_us']['p99']:.0f} | {r.get('rss_kb', 0) / 1024:.1f} / {r.get('hwm_kb', 0) / 1024:.1f} |")
        if sustained(r):
            best[r["case"]] = max(best.get(r["case"], 0), r["rate"])
    print()
    print(f"Weir RSS: idle 1 s after start {int(idle_kb) / 1024:.1f} MiB (largest of the starts), "
          f"at the end of the last run {int(end_kb) / 1024:.1f} MiB. "
          "Each Weir run is a fresh process, so its VmHWM is that run's peak.")
    for case, rate in best.items():
        print(f"Highest tested rate sustained through Weir ({case}; no errors, p99 ≤ {SUSTAINED_P99_US} µs): {rate}/s.")


def main():
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "annotate":
        annotate(*arguments)
    elif command == "line":
        line()
    elif command == "table":
        table(*arguments)
    else:
        sys.exit(f"report.py: unknown subcommand {command!r}; use annotate, line or table")


if __name__ == "__main__":
    main()
