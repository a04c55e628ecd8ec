#!/usr/bin/python3
"""(Deskbot's copy of ../shared/bench/ggml-gpt2/bench.py: Deskbot's q4 against ggml's q4_0 instead of the q4_0 and
f16 reference rows, and --ignore-eos for Deskbot as for ggml, so that both make 128 tokens; otherwise unchanged.)

Interleaved CPU speed comparison: Deskbot's pure-Go GPT-2 vs ggml's examples/gpt-2 (gpt-2-backend).

Same GPT-2-124M-shaped checkpoint (random weights) for both: Deskbot reads DIR/model.safetensors, ggml reads the
legacy .bin files written by st2ggml.py (+ gpt-2-quantize for q8_0/q4_0).

Every round runs every configuration once, each program of a pair back to back (order alternating by round:
A B, then B A). Before each run a gate samples /proc/stat for 1 s and waits while more than GATE_CORES cores are
busy (others' work; this script itself is idle then); during each run the CPU time used by everything except the
run itself is measured (/proc/stat busy time minus the child's user+sys from /usr/bin/time -v); a run where others
used more than DIRTY_CORES on average is marked dirty and repeated (dirty runs are kept in the log, not in the
medians). Peak RSS comes from /usr/bin/time -v.

usage: bench.py [--rounds 7] [--out DIR] [--only REGEX]
Paths (override with env): DESKBOT (binary), DESKBOT_MODEL (checkpoint dir), GGML_BIN (gpt-2-backend),
GGML_MODELS (dir with ggml-f32.bin ggml-f16.bin ggml-q8_0.bin ggml-q4_0.bin), PROMPTS (dir with ids32.txt,
ids128.txt, prompt32.txt, prompt128.txt: the same token ids as ids and as text that ggml's tokenizer maps to them).
"""
import argparse, json, os, re, statistics, subprocess, sys, time

DESKBOT = os.environ.get("DESKBOT", "")
MODEL = os.environ.get("DESKBOT_MODEL", "")
GGML = os.environ.get("GGML_BIN", "")
GM = os.environ.get("GGML_MODELS", "")
PROMPTS = os.environ.get("PROMPTS", "")
DATA = os.environ.get("DESKBOT_DATA", "")
MEMBW = os.environ.get("MEMBW", "")   # membw.c: sums a 1 GiB float array
GATE_CORES = 0.15
DIRTY_CORES = 0.15
N_GEN = 128


def rd(name):
    return open(os.path.join(PROMPTS, name)).read().strip()


def cpu_jiffies():
    f = open("/proc/stat").readline().split()[1:]
    v = list(map(int, f))
    user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
    return user + nice + system + irq + softirq, steal


HZ = os.sysconf("SC_CLK_TCK")


def gate(log):
    """Wait until the machine is idle (others' work under GATE_CORES for 1 s). Returns the last reading."""
    waited = 0
    while True:
        b0, s0 = cpu_jiffies()
        time.sleep(1.0)
        b1, s1 = cpu_jiffies()
        busy = (b1 - b0) / HZ
        if busy <= GATE_CORES or waited >= 1800:
            return {"gate_busy_cores": round(busy, 3), "gate_waited_s": waited, "loadavg": open("/proc/loadavg").read().split()[:3]}
        top = subprocess.run("ps -eo pid,pcpu,etime,comm --sort=-pcpu | head -4 | tail -3", shell=True,
                             capture_output=True, text=True).stdout.replace("\n", " | ")
        log(f"  gate: {busy:.2f} cores busy (not this script); waiting 15 s. top: {top}")
        time.sleep(15)
        waited += 16


def parse_time_v(err):
    def g(key):
        m = re.search(re.escape(key) + r":\s*([\d.:]+)", err)
        return m.group(1) if m else None
    return {"maxrss_mb": int(g("Maximum resident set size (kbytes)")) / 1024,
            "child_cpu_s": float(g("User time (seconds)")) + float(g("System time (seconds)"))}


def run(cmd, env=None):
    e = dict(os.environ)
    e.update(env or {})
    b0, s0 = cpu_jiffies()
    t0 = time.time()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=e, errors="replace")
    wall = time.time() - t0
    b1, s1 = cpu_jiffies()
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {p.returncode}: {p.stderr[-2000:]}")
    tv = parse_time_v(p.stderr)
    others = ((b1 - b0) / HZ - tv["child_cpu_s"]) / wall
    return p, {"wall_s": round(wall, 3), "others_cores": round(others, 3), "steal_cores": round((s1 - s0) / HZ / wall, 3),
               "maxrss_mb": round(tv["maxrss_mb"], 1), "child_cpu_s": tv["child_cpu_s"]}


def deskbot(kind, threads, quant):
    ids = rd("ids32.txt") if kind == "gen" else rd("ids128.txt")
    n = N_GEN if kind == "gen" else 1
    cmd = [DESKBOT, "generate", "--model", MODEL, "--prompt-ids", ids, "--max-tokens", str(n), "--temperature", "0",
           "--json", "--threads", str(threads), "--ignore-eos"]
    if quant:
        cmd += ["--quant", quant]
    p, m = run(cmd, {"DESKBOT_DATA": DATA})
    d = json.loads(p.stdout)
    t = d["timings"]
    m.update({"prompt_tokens": d["prompt_tokens"], "output_tokens": d["output_tokens"], "finish_reason": d["finish_reason"],
              "first_token_ms": t["first_token_ms"], "total_ms": t["total_ms"], "load_ms": t["load_ms"]})
    if kind == "gen":
        m["tok_s"] = t["tokens_per_second"]          # (N-1) / (total - first token): after the first token
    else:
        m["tok_s"] = d["prompt_tokens"] / t["first_token_ms"] * 1000   # prompt forward (+ one greedy pick)
    m["prompt_tok_s"] = d["prompt_tokens"] / t["first_token_ms"] * 1000
    return m


def ggml(kind, threads, wtype):
    prompt = rd("prompt32.txt") if kind == "gen" else rd("prompt128.txt")
    n, b = (N_GEN, 32) if kind == "gen" else (1, 128)
    cmd = [GGML, "-m", os.path.join(GM, f"ggml-{wtype}.bin"), "-t", str(threads), "-n", str(n), "-b", str(b),
           "-c", "256", "--top_k", "1", "--temp", "1", "--ignore-eos", "-s", "1", "-p", prompt]
    p, m = run(cmd)
    bm = re.search(r"BENCH (.*)", p.stdout)
    kv = {k: float(v) for k, v in (x.split("=") for x in bm.group(1).split())}
    npt = int(kv["prompt_tokens"])
    m.update({"prompt_tokens": npt, "output_tokens": int(kv["sampled"]), "prompt_eval_ms": kv["prompt_eval_ms"],
              "gen_eval_ms": kv["gen_eval_ms"], "gen_wall_ms": kv["gen_wall_ms"], "sample_ms": kv["sample_ms"],
              "eos_in_text": "<|endoftext|>" in p.stdout})
    if kind == "gen":
        # same measure as Deskbot's: (N-1) tokens over the time from the first to the last sampled token
        m["tok_s"] = (kv["sampled"] - 1) / kv["gen_wall_ms"] * 1000
        m["eval_only_tok_s"] = kv["gen_evals"] / kv["gen_eval_ms"] * 1000
    else:
        m["tok_s"] = npt / kv["prompt_eval_ms"] * 1000
    m["prompt_tok_s"] = npt / kv["prompt_eval_ms"] * 1000
    return m


def membw(threads):
    p, m = run([MEMBW, str(threads), "20", "1024"])
    x = re.search(r"best ([\d.]+) median ([\d.]+) min ([\d.]+)", p.stdout)
    m.update({"tok_s": float(x.group(2)), "best_gbs": float(x.group(1)), "min_gbs": float(x.group(3)),
              "output_tokens": 0, "prompt_tokens": 0})
    return m


# (config name, kind, threads, deskbot quant or None to skip, ggml weight type or None to skip)
CONFIGS = [
    ("gen f32 t2", "gen", 2, "", "f32"),
    ("gen int8 t2", "gen", 2, "q8", "q8_0"),
    ("gen q4 t2", "gen", 2, "q4", "q4_0"),
    ("gen f32 t1", "gen", 1, "", "f32"),
    ("gen int8 t1", "gen", 1, "q8", "q8_0"),
    ("gen q4 t1", "gen", 1, "q4", "q4_0"),
    ("prompt128 f32 t2", "prompt", 2, "", "f32"),
    ("prompt128 int8 t2", "prompt", 2, "q8", "q8_0"),
    ("prompt128 q4 t2", "prompt", 2, "q4", "q4_0"),
    ("prompt128 f32 t1", "prompt", 1, "", "f32"),
    ("prompt128 int8 t1", "prompt", 1, "q8", "q8_0"),
    ("prompt128 q4 t1", "prompt", 1, "q4", "q4_0"),
]


def summarize(rows):
    out = []
    by = {}
    for r in rows:
        if r.get("dirty") or r.get("warmup"):
            continue
        by.setdefault((r["config"], r["prog"]), []).append(r)
    def st(vals):
        return statistics.median(vals), min(vals), max(vals), len(vals)
    out.append(f"{'configuration':24} {'deskbot tok/s med (min-max) n':34} {'ggml tok/s med (min-max) n':34} {'ratio d/g':>9}  RSS MB d / g")
    for name, kind, th, dq, gw in CONFIGS:
        d = by.get((name, "deskbot"), [])
        g = by.get((name, "ggml"), [])
        ds = st([r["tok_s"] for r in d]) if d else None
        gs = st([r["tok_s"] for r in g]) if g else None
        f = lambda s: f"{s[0]:7.1f} ({s[1]:.1f}-{s[2]:.1f}) n={s[3]}" if s else "-"
        ratio = f"{ds[0] / gs[0]:.2f}" if ds and gs else "-"
        rss = (f"{statistics.median([r['maxrss_mb'] for r in d]):.0f}" if d else "-") + " / " + \
              (f"{statistics.median([r['maxrss_mb'] for r in g]):.0f}" if g else "-")
        out.append(f"{name:24} {f(ds):34} {f(gs):34} {ratio:>9}  {rss}")
        if d and kind == "gen":
            p = st([r["prompt_tok_s"] for r in d])
            out.append(f"{'':24} {'(32-tok prompt: ' + f(p) + ')':34}")
        if g and kind == "gen":
            e = st([r["eval_only_tok_s"] for r in g])
            out.append(f"{'':24} {'':34} {'eval only: ' + f(e):34}")
    for th in (2, 1):
        b = by.get((f"membw t{th}", "membw"), [])
        if b:
            s = st([r["tok_s"] for r in b])
            out.append(f"memory read bandwidth, 1 GiB, {th} thread(s): median-of-20 GB/s per round: "
                       f"{s[0]:.1f} ({s[1]:.1f}-{s[2]:.1f}) n={s[3]}; best pass {max(r['best_gbs'] for r in b):.1f}")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--summarize", action="store_true", help="only print the summary of OUT/runs.jsonl")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "runs.jsonl")
    if a.summarize:
        print(summarize([json.loads(l) for l in open(path)]))
        return
    logf = open(os.path.join(a.out, "log.txt"), "a")
    def log(s):
        s = time.strftime("%H:%M:%S ") + s
        print(s, flush=True)
        logf.write(s + "\n")
        logf.flush()
    jf = open(path, "a")
    cfgs = [c for c in CONFIGS if re.search(a.only, c[0])]
    jobs_all = []
    for name, kind, th, dq, gw in cfgs:
        pair = []
        if dq is not None:
            pair.append(("deskbot", lambda kind=kind, th=th, dq=dq: deskbot(kind, th, dq)))
        if gw is not None:
            pair.append(("ggml", lambda kind=kind, th=th, gw=gw: ggml(kind, th, gw)))
        jobs_all.append((name, pair))
    if not a.only or re.search(a.only, "membw"):
        jobs_all.insert(0, ("membw t2", [("membw", lambda: membw(2))]))
        jobs_all.insert(1, ("membw t1", [("membw", lambda: membw(1))]))
    rows = []
    for rnd in range(0, a.rounds + 1):   # round 0 is a warm-up (page cache, CPU frequency), not counted
        log(f"round {rnd}{' (warm-up)' if rnd == 0 else ''}")
        for name, pair in jobs_all:
            order = pair if rnd % 2 == 0 else list(reversed(pair))
            for prog, fn in order:
                for attempt in range(4):
                    g = gate(log)
                    m = fn()
                    m.update(g)
                    m.update({"config": name, "prog": prog, "round": rnd, "attempt": attempt, "time": time.strftime("%H:%M:%S")})
                    if rnd == 0:
                        m["warmup"] = True
                    m["dirty"] = m["others_cores"] > DIRTY_CORES
                    jf.write(json.dumps(m) + "\n")
                    jf.flush()
                    rows.append(m)
                    log(f"  {name:22} {prog:7} tok/s {m['tok_s']:7.1f}  out={m['output_tokens']} prompt={m['prompt_tokens']} "
                        f"rss={m['maxrss_mb']:.0f}MB others={m['others_cores']:.2f} steal={m['steal_cores']:.2f} "
                        f"load={'/'.join(m['loadavg'])}{' DIRTY' if m['dirty'] else ''}")
                    if not m["dirty"]:
                        break
    log("\n" + summarize(rows))


if __name__ == "__main__":
    main()
