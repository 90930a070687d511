#!/usr/bin/env python3
"""tests/bench/report.py: the ratios of issue 13 from one run of tests/bench/run.sh

    report.py RESULTS_DIR DOC      (DOC "-": print only)

Reads the raw results run.sh left in RESULTS_DIR (meta.txt, cpu.txt, load.txt, rss.txt,
peak-rss.txt, wrk.json, bare.json, closed.json, open.json, scale-N.json), rewrites its own
sections of DOC (the others, written by other benches or by hand, stay as they are) and prints
the ratios as its last lines, ending with "targets met: K of 4".
"""
import collections
import json
import os
import sys

SERVICES = ["gateway", "processor", "metrics-engine", "read-model", "web-terminal"]
# processes whose CPU is measured, in table order ("gateway.main" and "gateway.publisher" are
# threads of "gateway")
PROCESSES = ["gateway", "gateway.main", "gateway.publisher", "processor", "metrics-engine",
             "read-model", "web-terminal", "rabbitmq", "postgres", "redis"]
LABELS = {"gateway.main": "gateway main thread", "gateway.publisher": "gateway publisher thread",
          "rabbitmq": "RabbitMQ (beam.smp)", "postgres": "PostgreSQL (all backends)",
          "redis": "Redis"}
# headings an earlier version of run.sh wrote: replaced by the sections below
RETIRED = {"## Targets", "## Gateway: wrk"}


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def parse_metrics(path):
    """sample name with labels -> value, from a Prometheus text file; {} if there is none"""
    samples = {}
    try:
        for line in open(path, encoding="utf-8"):
            if line.startswith("#") or " " not in line:
                continue
            name, _, value = line.rstrip("\n").rpartition(" ")
            try:
                samples[name] = float(value)
            except ValueError:
                pass
    except OSError:
        pass
    return samples


class Run:
    def __init__(self, out):
        self.out = out
        self.meta = {}
        for line in open(f"{out}/meta.txt", encoding="utf-8"):
            key, _, value = line.rstrip("\n").partition("=")
            self.meta[key] = value
        self.clk = int(self.meta.get("clk_tck", "100"))
        self.nproc = int(self.meta.get("nproc", "1"))
        self.ticks = collections.defaultdict(dict)     # (phase, name) -> {mark: value}
        for line in open(f"{out}/cpu.txt", encoding="utf-8"):
            parts = line.split()
            if len(parts) != 4:
                continue   # a process that was gone when read
            phase, mark, name, value = parts
            self.ticks[(phase, name)][mark] = float(value)
        self.load = {}
        for line in open(f"{out}/load.txt", encoding="utf-8"):
            phase, value = line.split()
            self.load[phase] = float(value)
        self.rss = collections.defaultdict(int)        # (phase, service) -> max kB
        if os.path.exists(f"{out}/rss.txt"):
            for line in open(f"{out}/rss.txt", encoding="utf-8"):
                phase, name, kb = line.split()
                self.rss[(phase, name)] = max(self.rss[(phase, name)], int(kb))
        self.peak = {}
        if os.path.exists(f"{out}/peak-rss.txt"):
            for line in open(f"{out}/peak-rss.txt", encoding="utf-8"):
                name, kb = line.split()
                self.peak[name] = max(self.peak.get(name, 0), int(kb))
        # the gateway's own /metrics right before and after wrk (older runs: none)
        self.gw_metrics = [parse_metrics(f"{out}/gateway-metrics-{w}.txt") for w in ("before", "after")]
        self.wrk = load_json(f"{out}/wrk.json")
        # jobs the gateway accepted under wrk, and per second
        wrk = self.wrk or {}
        self.accepted = wrk.get("status", {}).get("202", 0)
        self.gw_rate = self.accepted / wrk["durationS"] if wrk.get("durationS") else None
        self.bare = load_json(f"{out}/bare.json")
        # the bare publisher again right before the pipeline's phases (older runs: only one)
        self.bare_pipeline = load_json(f"{out}/bare-pipeline.json")
        self.pipeline_bare_phase = "bare-pipeline" if self.bare_pipeline else "bare"
        self.bare_pipeline = self.bare_pipeline or self.bare
        self.closed = load_json(f"{out}/closed.json")
        self.open = load_json(f"{out}/open.json")
        self.processors = [int(n) for n in self.meta.get("processors", "").split()]
        self.scale = {n: load_json(f"{out}/scale-{n}.json") for n in self.processors}
        self.phases = [p for p in ("idle", "warmup", "warmup-drain", "bare", "gateway", "drain",
                                   "bare-pipeline", "closed", "open")
                       if (p, "_wall") in self.ticks] + [f"scale-{n}" for n in self.processors]

    def cpu_s(self, phase, name):
        """CPU seconds of a process in a phase, None if not measured."""
        m = self.ticks.get((phase, name), {})
        if "start" not in m or "end" not in m:
            return None
        return (m["end"] - m["start"]) / (1 if name == "_wall" else self.clk)

    def names(self, phase):
        """processes measured in a phase, in table order (extra processors after the first)"""
        found = {name for (p, name) in self.ticks if p == phase and name != "_wall"}
        ordered = [n for n in PROCESSES if n in found]
        extra = sorted(n for n in found if n.startswith("processor-"))
        i = ordered.index("processor") + 1 if "processor" in ordered else len(ordered)
        return ordered[:i] + extra + ordered[i:]

    def gw_delta(self, name):
        """how much a gateway metric grew over the wrk phase, None if not recorded"""
        before, after = self.gw_metrics
        if name not in before or name not in after:
            return None
        return after[name] - before[name]

    def us_per_job(self, phases, name, jobs):
        parts = [self.cpu_s(p, name) for p in phases]
        if not jobs or any(x is None for x in parts):
            return None
        return sum(parts) / jobs * 1e6


def fmt(v, digits=0, unit=""):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}{unit}"


class Verdicts:
    """The printed ratio lines and which of the four targets they meet."""

    def __init__(self):
        self.lines = []
        self.table = []
        self.met = {}

    def add(self, target, label, value, shown, goal, ok, what):
        verdict = "MET" if ok else "MISS"
        self.met[target] = self.met.get(target, True) and ok
        self.lines.append(f"{label} = {shown} ({goal}) {verdict}")
        self.table.append((target, label, shown, goal.replace("target ", ""), verdict, what))


def verdicts(r):
    v = Verdicts()
    wrk, bare, closed, opn = r.wrk or {}, r.bare or {}, r.closed or {}, r.open or {}
    accepted, gw_rate = r.accepted, r.gw_rate
    bare_rate = bare.get("perSecond") or None
    bare_msgs = bare.get("messages")

    # 1. the gateway against the bare publisher
    ratio = gw_rate / bare_rate if gw_rate and bare_rate else None
    v.add(1, "ratio gateway/bare", ratio,
          f"{fmt(ratio, 2)} [{fmt(gw_rate)} jobs/s ÷ {fmt(bare_rate)} msg/s]", "target >= 0.8",
          ratio is not None and ratio >= 0.8,
          "jobs accepted per second by the gateway under wrk -c64 ÷ messages confirmed per second by the bare publisher with a window of 64, right before")
    gw_p99 = wrk.get("latencyMs", {}).get("p99")
    bare_p99 = bare.get("confirmMs", {}).get("p99")
    ratio = gw_p99 / bare_p99 if gw_p99 and bare_p99 else None
    v.add(1, "ratio gateway p99/bare confirm p99", ratio,
          f"{fmt(ratio, 2)} [{fmt(gw_p99, 1)} ms ÷ {fmt(bare_p99, 1)} ms]", "target <= 2",
          ratio is not None and ratio <= 2,
          "the gateway's HTTP p99 (wrk) ÷ the bare publisher's publish-to-confirm p99")
    main_us = r.us_per_job(["gateway"], "gateway.main", accepted)
    v.add(1, "gateway main-thread CPU per job", main_us, f"{fmt(main_us)} µs", "target <= 60",
          main_us is not None and main_us <= 60,
          "CPU of the gateway's main thread (/proc/PID/task/PID/stat) during wrk ÷ jobs accepted")

    # 2. the broker's work per job
    gw_broker = r.us_per_job(["gateway"], "rabbitmq", accepted)
    bare_broker = r.us_per_job(["bare"], "rabbitmq", bare_msgs)
    ratio = gw_broker / bare_broker if gw_broker and bare_broker else None
    v.add(2, "ratio broker CPU per job gateway/bare", ratio,
          f"{fmt(ratio, 2)} [{fmt(gw_broker)} µs ÷ {fmt(bare_broker)} µs]", "target <= 1.2",
          ratio is not None and ratio <= 1.2,
          "beam.smp CPU per accepted job under wrk ÷ beam.smp CPU per message of the bare publisher")

    # 3. the pipeline, against the bare publisher measured right before it
    e2e = closed.get("endToEnd", {})
    pipe_rate = e2e.get("completedPerSec") or None
    bare_rate = (r.bare_pipeline or {}).get("perSecond") or None
    ratio = pipe_rate / bare_rate if pipe_rate and bare_rate else None
    v.add(3, "ratio pipeline/bare", ratio,
          f"{fmt(ratio, 2)} [{fmt(pipe_rate)} jobs/s ÷ {fmt(bare_rate)} msg/s]", "target >= 0.4",
          ratio is not None and ratio >= 0.4,
          "jobs completed per second end to end (odd-bench closed, 64 clients, first submit to last completion) ÷ the bare publisher's msg/s right before")
    open_p99 = opn.get("endToEnd", {}).get("latencyMs", {}).get("p99")
    rate = r.meta.get("open_rate", "?")
    v.add(3, f"pipeline p99 submit-to-completed at {rate} jobs/s", open_p99, f"{fmt(open_p99, 1)} ms",
          "target < 50", open_p99 is not None and open_p99 < 50,
          "odd-bench open at half the closed run's completed/s: p99 of job.completed − createdAt")

    # 4. memory
    peaks = {s: max([r.peak.get(s, 0)] + [kb for (p, n), kb in r.rss.items() if n == s])
             for s in {n for (_, n) in r.rss} | set(r.peak)}
    if peaks:
        worst = max(peaks, key=peaks.get)
        mb = peaks[worst] / 1024
        v.add(4, "max RSS of a service", mb, f"{mb:.1f} MB ({worst})", "target < 20 MB each",
              mb < 20, "the largest resident set of any service over the whole run (VmHWM, and ps every 0.5 s)")
    else:
        v.add(4, "max RSS of a service", None, "n/a", "target < 20 MB each", False,
              "no RSS was recorded")
    return v, peaks


def write_gateway_bound(r, w):
    """Little's law on the wrk phase: where a round trip of the 64 connections went, and what
    0.8 of the bare publisher would ask of the broker's confirm time and of the CPUs."""
    bare, accepted, rate = r.bare or {}, r.accepted, r.gw_rate
    confirms = r.gw_delta('gateway_publish_confirm_seconds_count{service="gateway"}')
    confirm_s = r.gw_delta('gateway_publish_confirm_seconds_sum{service="gateway"}')
    handled = r.gw_delta('http_request_duration_seconds_count{service="gateway",route="/jobs"}')
    handler_s = r.gw_delta('http_request_duration_seconds_sum{service="gateway",route="/jobs"}')
    bare_rate = bare.get("perSecond")
    if not (confirms and handled and rate and bare_rate):
        return
    conns = 64
    trip = conns / rate * 1e3                 # ms a connection waits from one job to the next
    confirm = confirm_s / confirms * 1e3      # publish handed over → confirm read
    handler = handler_s / handled * 1e3       # the handler's start → the answer queued
    bare_trip = conns / bare_rate * 1e3
    goal_trip = conns / (0.8 * bare_rate) * 1e3
    per = {n: r.us_per_job(["gateway"], n, accepted) for n in ("gateway", "rabbitmq")}
    wrk_s = r.cpu_s("gateway", "client.wrk")
    wrk_us = wrk_s / accepted * 1e6 if wrk_s is not None and accepted else None
    bare_us = r.us_per_job(["bare"], "rabbitmq", bare.get("messages"))
    bare_client = (bare.get("clientCpuS") or 0) / bare["messages"] * 1e6 if bare.get("messages") else None
    w("## What bounds the gateway on this machine")
    w("")
    w(f"Little's law on the wrk phase, from the gateway's `/metrics` right before and after it: {conns}")
    w(f"connections at {rate:,.0f} jobs/s wait {trip:.2f} ms from one job to the next. Of that, the broker's")
    w(f"confirm took {confirm:.2f} ms on average (`gateway_publish_confirm_seconds`: the publish handed to the")
    w(f"publisher thread until its confirm is read), the gateway's other work {handler - confirm:.2f} ms (its")
    w(f"`http_request_duration_seconds` for `/jobs`, {handler:.2f} ms, less the confirm), and wrk with the")
    w(f"kernel's loopback the remaining {trip - handler:.2f} ms. So {rate * confirm / 1e3:.0f} of the 64 jobs were on")
    w(f"average waiting for their confirm; the bare publisher keeps all {conns} there, each for")
    w(f"{bare_trip:.2f} ms. For 0.8 of the bare publisher ({0.8 * bare_rate:,.0f} jobs/s) a round trip must")
    if goal_trip > confirm:
        w(f"take {goal_trip:.2f} ms: at this confirm time, {goal_trip - confirm:.2f} ms for everything outside the broker")
        w(f"instead of {trip - confirm:.2f}.")
    else:
        w(f"take {goal_trip:.2f} ms: less than the confirm alone took ({confirm:.2f} ms), with {trip - confirm:.2f} ms")
        w("outside the broker besides.")
    if None not in (per["gateway"], per["rabbitmq"], wrk_us, bare_us, bare_client):
        job_us = per["gateway"] + per["rabbitmq"] + wrk_us
        need = 0.8 * bare_rate * job_us / 1e6
        had = bare_rate * (bare_us + bare_client) / 1e6
        w("")
        w(f"In CPU, a gateway job cost {job_us:.0f} µs (the gateway {per['gateway']:.0f}, RabbitMQ {per['rabbitmq']:.0f},")
        w(f"wrk {wrk_us:.0f}), a bare message {bare_us + bare_client:.0f} µs (RabbitMQ {bare_us:.0f}, the publisher")
        w(f"{bare_client:.0f}). The bare publisher's rate took {had:.2f} CPUs; 0.8 of it through the gateway")
        w(f"takes {need:.2f} of the {r.nproc}, and every hop of a job (wrk, the gateway's main loop, its")
        w("checker and publisher threads, the broker's processes) then waits for a CPU the more, the")
        w(f"closer that is to {r.nproc}: {need / r.nproc:.0%} busy against {had / r.nproc:.0%} for the bare publisher"
          + (" (more CPU than there is)." if need > r.nproc else "."))
    w("")


def write_doc(r, v, peaks, doc):
    m = r.meta
    wrk, bare, closed, opn = r.wrk or {}, r.bare or {}, r.closed or {}, r.open or {}
    accepted = r.accepted
    lines = []
    w = lines.append
    w("# Performance")
    w("")
    w("Measured by `tests/bench/run.sh` (it writes the sections from here to \"Reproduce\"): one")
    w("invocation starts a private local stack, measures a bare confirmed publisher and the pipeline")
    w("against the same RabbitMQ, and prints the ratios below as its last lines. Absolute rates on")
    w("this shared 2-vCPU machine move by 2× from day to day with the neighbours' load; ratios")
    w("of phases seconds apart, and CPU per job, move less, so compare runs by those (and by")
    w("several runs when the load average is far above the CPU count).")
    w("")
    w("## Ratios")
    w("")
    w(f"Run of {m.get('date', '?')} UTC, commit {m.get('commit', '?')}, {m.get('duration', '?')} s per phase, "
      f"1-minute load average {', '.join(f'{p} {r.load[p]:.2f}' for p in r.phases if p in r.load)} "
      f"(at each phase start, on {r.nproc} CPUs). Targets of issue 13; a target is met when all its lines are.")
    w("")
    w("| target | figure | measured | goal | | what it is |")
    w("|---|---|---|---|---|---|")
    for target, label, shown, goal, verdict, what in v.table:
        w(f"| {target} | {label} | {shown} | {goal} | {verdict if verdict == 'MET' else '**MISS**'} | {what} |")
    w("")
    w(f"**Targets met: {sum(v.met.values())} of {len(v.met)}.**")
    w("")
    before = r.load.get("idle", 0)
    if before > r.nproc:
        w(f"This run shared the machine: the load average was already {before:.1f} on {r.nproc} CPUs")
        w("before any load. The rates above are then bounded by the CPU time the stack got in each")
        w("phase; the CPU per job below depends on the neighbours much less.")
        w("")
    w("## Machine and build")
    w("")
    w("| | |")
    w("|---|---|")
    w(f"| date | {m.get('date', '?')} UTC |")
    w(f"| CPU | {m.get('model', '?')}, {r.nproc} logical CPUs (`nproc`) |")
    w(f"| memory | {m.get('mem', '?')} |")
    w(f"| kernel | {m.get('kernel', '?')} |")
    commit = m.get('commit', '?')
    if commit.endswith(' dirty'):
        commit += ' (the tree had changes besides this file)'
    w(f"| commit | {commit} |")
    w(f"| build type | {m.get('buildtype', '?')} |")
    w(f"| load per phase | {m.get('duration', '?')} s |")
    w("| 1-min load average at each phase start | " + ", ".join(f"{p} {r.load[p]:.2f}" for p in r.phases if p in r.load) + " |")
    w("| servers | PostgreSQL 15, Redis 7, RabbitMQ 3.10 of `oddctl local up`, on loopback |")
    w("")

    w("## Gateway alone and the bare publisher")
    w("")
    w(f"**Gateway:** `wrk -t2 -c64 -d{m.get('duration', '?')}s --latency -s tests/bench/jobs.lua` (wrk {m.get('wrk', '?')})")
    w("with the processor stopped (SIGSTOP, continued afterwards): nothing consumes `jobs.created`,")
    w("as nothing consumes the bare publisher's queue. Each request POSTs a new Job with a fresh")
    w("uuid; a 202 comes only once RabbitMQ confirmed the persistent message.")
    w("")
    w(f"**Bare publisher:** `odd-physical-amqp --publish-only --duration {m.get('duration', '?')} --window 64 "
      f"--size {m.get('envelope_bytes', '?')}` (tests/bench/physical): librabbitmq-c, one connection, persistent")
    w(f"messages of {m.get('envelope_bytes', '?')} bytes (the size of a `job.created` the gateway had just published,")
    w("taken from `jobs.created` and put back) with the gateway's AMQP properties, at most 64")
    w("unconfirmed, to a durable queue of its own on the same broker, deleted afterwards. It runs")
    w("right before the gateway (the gateway's ratios) and again right before the pipeline's phases")
    w("(the pipeline's ratio), so that the neighbours' load drifts little between compared phases.")
    w("")
    lat = wrk.get("latencyMs", {})
    other = {k: n for k, n in wrk.get("status", {}).items() if k != "202"}
    w("| | messages | per s | p50 ms | p95 ms | p99 ms | max ms | other answers | client CPU s |")
    w("|---|---|---|---|---|---|---|---|---|")
    w(f"| gateway (HTTP latency) | {accepted:,} | {fmt(r.gw_rate)} | {fmt(lat.get('p50'), 2)} | {fmt(lat.get('p95'), 2)} | "
      f"{fmt(lat.get('p99'), 2)} | {fmt(lat.get('max'), 2)} | {json.dumps(other) if other else 'none'}, "
      f"{wrk.get('socketErrors', 0)} socket errors | {fmt(r.cpu_s('gateway', 'client.wrk'), 1)} (wrk) |")
    bare_runs = [("bare publisher before the gateway (publish to confirm)", bare)]
    if r.pipeline_bare_phase != "bare":
        bare_runs.append(("bare publisher before the pipeline", r.bare_pipeline))
    for name, b in bare_runs:
        conf = b.get("confirmMs", {})
        w(f"| {name} | {b.get('messages', 0):,} | {fmt(b.get('perSecond'))} | "
          f"{fmt(conf.get('p50'), 2)} | {fmt(conf.get('p95'), 2)} | {fmt(conf.get('p99'), 2)} | {fmt(conf.get('max'), 2)} | – | "
          f"{fmt(b.get('clientCpuS'), 1)} |")
    w("")
    main_us = r.us_per_job(["gateway"], "gateway.main", accepted)
    pub_us = r.us_per_job(["gateway"], "gateway.publisher", accepted)
    all_us = r.us_per_job(["gateway"], "gateway", accepted)
    rest_us = all_us - main_us - pub_us if None not in (all_us, main_us, pub_us) else None
    w(f"Gateway CPU per accepted job: {fmt(all_us)} µs in all: the main thread (HTTP, JSON, the envelope)")
    w(f"{fmt(main_us)} µs, the publisher thread (`odd-amqp-pub`, librabbitmq) {fmt(pub_us)} µs, its other")
    w(f"threads (GLib's worker threads) {fmt(rest_us)} µs.")
    w(f"RabbitMQ spent {fmt(r.us_per_job(['gateway'], 'rabbitmq', accepted))} µs per gateway job and "
      f"{fmt(r.us_per_job(['bare'], 'rabbitmq', bare.get('messages')))} µs per bare message.")
    w("")

    w("## End to end: odd-bench")
    w("")
    w("`odd-bench` (tests/bench/odd-bench.c, a libsoup client) submits full Jobs carrying their own")
    w("`createdAt`; submit-to-completed is `job_events.occurred_at` of `job.completed` minus")
    w("`jobs.created_at`, read from PostgreSQL for exactly the jobs of the run; completed/s is the")
    w("jobs completed over the span from the first `createdAt` to the last completion, once every")
    w("accepted job is terminal (its `job.completed` or `job.failed` stored). The closed")
    w("run (64 clients, each sending its next job when the last is answered) gives the pipeline's")
    w(f"maximum; the open run then offers half of it ({m.get('open_rate', '?')} jobs/s), a job due every 1/rate s")
    w("whatever the answers do, latencies counted from the due time (no coordinated omission);")
    w("\"not sent\" counts due jobs dropped because 512 were already waiting.")
    w("")
    w("| run | sent | not sent | accepted/s | errors | HTTP p50 | p99 | completed | failed | completed/s | e2e p50 | p95 | p99 | max | odd-bench CPU s |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    bench_rows = [("closed, 64 clients", closed), (f"open, {m.get('open_rate', '?')} jobs/s", opn)]
    for name, res in bench_rows:
        if not res:
            w(f"| {name} | not measured | | | | | | | | | | | | | |")
            continue
        h = res.get("httpLatencyMs", {})
        e = res.get("endToEnd", {})
        el = e.get("latencyMs", {})
        errs = json.dumps(res["errors"]) if res.get("errors") else "none"
        w(f"| {name} | {res['sent']:,} | {res['dropped']:,} | {fmt(res.get('acceptedPerSec'))} | {errs} | "
          f"{fmt(h.get('p50'), 1)} | {fmt(h.get('p99'), 1)} | {e.get('completed', 0):,} | {e.get('failed', 0):,} | {fmt(e.get('completedPerSec'))} | "
          f"{fmt(el.get('p50'), 1)} | {fmt(el.get('p95'), 1)} | {fmt(el.get('p99'), 1)} | {fmt(el.get('max'), 1)} | "
          f"{fmt(res.get('clientCpuS'), 1)} |")
    w("")
    w("Latencies in ms.")
    w("")

    w("## CPU per job")
    w("")
    w("CPU time (user + system from /proc/PID/stat; for PostgreSQL the postmaster, its live backends")
    w("and those it reaped) per job of each phase, in µs. \"cores busy\" is all of it over the")
    w("phase's wall time: near the CPU count, the machine was the limit. Gateway jobs are the")
    w("accepted ones; the drain phase is the pipeline working off the gateway's jobs (the")
    w("processor was stopped under wrk), per job; the bare rows are per message.")
    w("")
    cpu_rows = [("gateway (wrk)", ["gateway"], accepted),
                ("drain (wrk's jobs)", ["drain"], accepted),
                ("bare publisher before the gateway", ["bare"], bare.get("messages")),
                ("bare publisher before the pipeline", ["bare-pipeline"], (r.bare_pipeline or {}).get("messages")),
                ("closed", ["closed"], closed.get("accepted") if closed else None),
                ("open", ["open"], opn.get("accepted") if opn else None)]
    columns = [n for n in PROCESSES if any((p, n) in r.ticks for p in r.phases)]
    w("| phase | jobs | " + " | ".join(LABELS.get(n, n) for n in columns) + " | all | cores busy |")
    w("|---|---|" + "---|" * (len(columns) + 2))
    for name, ph, jobs in cpu_rows:
        if not jobs or ph[0] not in r.phases:
            continue
        cells = [fmt(r.us_per_job(ph, n, jobs)) for n in columns]
        total = sum(x for x in (r.cpu_s(ph[0], n) for n in r.names(ph[0]) if "." not in n) if x)
        wall = r.cpu_s(ph[0], "_wall")
        w(f"| {name} | {jobs:,} | " + " | ".join(cells) + f" | {fmt(total / jobs * 1e6)} | "
          f"{fmt(total / wall if wall else None, 2)} |")
    w("")
    w("\"all\" counts the processes of the stack, not the load generators (their CPU is in the")
    w("tables above). A process at X µs per job would do 1,000,000 ÷ X jobs/s on a core of its own.")
    w("")
    # what bounds the pipeline: the closed run's CPU per job across everything
    if closed and closed.get("accepted") and "closed" in r.phases:
        jobs = closed["accepted"]
        per = {n: r.us_per_job(["closed"], n, jobs) for n in r.names("closed") if "." not in n}
        per = {n: x for n, x in per.items() if x}
        client = closed.get("clientCpuS", 0) / jobs * 1e6
        total = sum(per.values()) + client
        wall = r.cpu_s("closed", "_wall")
        busy = (sum(r.cpu_s("closed", n) or 0 for n in per) + closed.get("clientCpuS", 0)) / wall if wall else 0
        w("## What bounds throughput on this machine")
        w("")
        w(f"In the closed run a job cost {total:,.0f} µs of CPU in all: the stack's processes "
          f"{sum(per.values()):,.0f} µs (RabbitMQ {per.get('rabbitmq', 0):,.0f}, PostgreSQL {per.get('postgres', 0):,.0f})")
        load = r.load.get("closed", 0)
        w(f"and odd-bench {client:,.0f} µs. The stack and odd-bench kept {busy:.2f} of {r.nproc} CPUs busy"
          + (f"; with a load average of {load:.1f} the neighbours had the rest: the CPUs were the limit."
             if load > r.nproc else (": the CPUs were the limit." if busy > 0.8 * r.nproc else
                                     ": the CPUs were not the limit; latency was (64 clients ÷ their latency).")))
        w(f"At that cost {r.nproc} CPUs allow at most {r.nproc * 1e6 / total:,.0f} jobs/s; each further core adds about "
          f"{1e6 / total:,.0f} jobs/s while no single process is the limit. One core per process would let the")
        top = max(per, key=per.get)
        w(f"busiest, {LABELS.get(top, top)} at {per[top]:,.0f} µs per job, do {1e6 / per[top]:,.0f} jobs/s.")
        bare_rate = (r.bare_pipeline or {}).get("perSecond")
        if bare_rate:
            w(f"0.4 of the bare publisher ({0.4 * bare_rate:,.0f} jobs/s, target 3) would take "
              f"{0.4 * bare_rate * total / 1e6:.1f} CPUs at this cost.")
        w("")

    write_gateway_bound(r, w)

    if r.processors:
        w("## Processor scaling")
        w("")
        w(f"Run of {m.get('date', '?')} UTC, commit {m.get('commit', '?')}: `ODD_BENCH_PROCESSORS=\"{m.get('processors', '')}\" tests/bench/run.sh`.")
        w("`odd-bench closed --concurrency 64` again with N processor processes: the stack's one and")
        w("N − 1 more started by run.sh with the same binary and environment (another health port and")
        w("instance id), stopped afterwards. CPU in µs per accepted job; the processors' is their sum.")
        w("")
        cols = ["processors", "gateway", "metrics-engine", "read-model", "rabbitmq", "postgres", "redis"]
        w("| processors | completed/s | e2e p99 ms | " + " | ".join(LABELS.get(c, c) + (" (sum)" if c == "processors" else "") for c in cols)
          + " | per processor | cores busy | load at start |")
        w("|---|---|---|" + "---|" * (len(cols) + 3))
        for n in r.processors:
            res = r.scale.get(n) or {}
            phase = f"scale-{n}"
            jobs = res.get("accepted")
            e = res.get("endToEnd", {})
            procs = [x for x in r.names(phase) if x == "processor" or x.startswith("processor-")]
            each = [r.us_per_job([phase], x, jobs) for x in procs]
            cells = []
            for c in cols:
                if c == "processors":
                    cells.append(fmt(sum(x for x in each if x) if jobs else None))
                else:
                    cells.append(fmt(r.us_per_job([phase], c, jobs)))
            total = sum(x for x in (r.cpu_s(phase, x) for x in r.names(phase) if "." not in x) if x)
            wall = r.cpu_s(phase, "_wall")
            w(f"| {n} | {fmt(e.get('completedPerSec'))} | {fmt(e.get('latencyMs', {}).get('p99'), 1)} | " + " | ".join(cells)
              + f" | {', '.join(fmt(x) for x in each)} | {fmt(total / wall if wall else None, 2)} | {fmt(r.load.get(phase), 2)} |")
        w("")
        w("On two shared CPUs more processors cannot add throughput once the CPUs are busy; the CPU")
        w("per job per process says what each would do on cores of its own (1,000,000 ÷ µs per job).")
        w("")

    w("## Memory: RSS per service")
    w("")
    w("Largest RSS (VmRSS every 0.5 s) in each phase and the peak over the process's life (VmHWM,")
    w("read at the end), in MB. Target: each service under 20 MB.")
    w("")
    shown = [s for s in SERVICES if s in peaks] + sorted(s for s in peaks if s not in SERVICES)
    w("| service | " + " | ".join(r.phases) + " | peak |")
    w("|---|" + "---|" * (len(r.phases) + 1))
    for s in shown:
        w(f"| {s} | " + " | ".join(f"{r.rss[(p, s)] / 1024:.1f}" if r.rss.get((p, s)) else "–" for p in r.phases)
          + f" | {peaks[s] / 1024:.1f} |")
    w("")
    w(f"After the run the gateway held {m.get('gateway_fds', '?')} file descriptors.")
    w("")

    w("## Reproduce")
    w("")
    w("```sh")
    w("tests/bench/run.sh /tmp/build-bench                  # 2–2½ minutes at the default 10 s per phase")
    w("ODD_BENCH_PROCESSORS=\"1 2 3\" tests/bench/run.sh      # and the processor scaling (+ about 1 minute)")
    w("```")
    w("")
    w("ODD_BENCH_DURATION sets the seconds per phase, ODD_PORT_BASE and ODD_STATE_DIR the private")
    w("stack, ODD_BENCH_DOC the file written (`-`: none). The raw results stay in")
    w("`BUILD_DIR/bench-results/` (`wrk.json`, `bare.json`, `bare-pipeline.json`, `closed.json`, `open.json`,")
    w("`scale-N.json`, `cpu.txt`, `load.txt`, `rss.txt`, `peak-rss.txt`, `meta.txt`);")
    w("`tests/bench/report.py BUILD_DIR/bench-results -` prints the ratios again.")

    mine = {line for line in lines if line.startswith("## ")}
    kept, keep = [], False
    try:
        for line in open(doc, encoding="utf-8").read().splitlines():
            if line.startswith("## "):
                # a section of this report not measured in this run (the processor scaling)
                # stays as the run that measured it wrote it
                keep = line not in mine and line not in RETIRED and \
                    line not in ("## What bounds throughput on this machine",
                                 "## What bounds the gateway on this machine")
            if keep:
                kept.append(line)
    except OSError:
        pass
    if kept:
        lines += [""] + kept
    with open(doc, "w", encoding="utf-8") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")


def main():
    if len(sys.argv) != 3:
        print("usage: report.py RESULTS_DIR DOC|-", file=sys.stderr)
        return 2
    out, doc = sys.argv[1:]
    try:
        r = Run(out)
    except OSError as e:
        print(f"report.py: {e.filename}: {e.strerror} (not a tests/bench/run.sh results directory?)", file=sys.stderr)
        return 1
    v, peaks = verdicts(r)
    if doc != "-":
        write_doc(r, v, peaks, doc)
        print(f"run.sh: wrote {doc}")
    for line in v.lines:
        print(line)
    print(f"targets met: {sum(v.met.values())} of {len(v.met)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
