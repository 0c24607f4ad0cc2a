#!/usr/bin/env python3
"""How amzpay behaves as its database fills (docs/performance.md, "As it fills").

Starts a release `amzpay serve` on a fresh data directory, then runs `amzpay bench
--scenario create-charge` again and again, each run adding its charges to the database,
until the database holds --charges charges. Every run is a data point: the charges stored
before it, its throughput and latency, the server's CPU time per request and its resident
memory. At every --restart-every charges the server is stopped and started again, and the
time from the start of the process to its first ready answer (`GET /readyz`) is measured.

Writes the points to docs/growth.csv and draws docs/growth.svg from them (no plotting
library: the SVG is written here, so the script needs only Python's standard library).
`--plot-only` redraws the SVG from an existing CSV.

    cargo build --release --bin amzpay
    scripts/growth.py --charges 1000000

The machine's load changes throughput; the server's CPU time per request does not depend
on what else runs, which is why both are recorded.
"""

import argparse
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "amzpay")
CSV_PATH = os.path.join(ROOT, "docs", "growth.csv")
SVG_PATH = os.path.join(ROOT, "docs", "growth.svg")
COLUMNS = [
    "charges_before", "throughput_rps", "p50_ms", "p99_ms", "server_cpu_us_per_request",
    "server_rss_mb", "load_1min", "startup_ms",
]
# How long a server may take to answer /readyz before the run is abandoned.
READY_TIMEOUT_S = 30.0
READY_POLL_S = 0.002


def clock_ticks():
    return os.sysconf(os.sysconf_names["SC_CLK_TCK"])


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of /proc/PID/stat (1-based, the name removed).
    return (int(fields[11]) + int(fields[12])) / clock_ticks()


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, data_dir, port):
        self.data_dir = data_dir
        self.port = port
        self.process = None

    def start(self):
        """Starts the server; returns milliseconds from spawning it to its first 200 on /readyz."""
        started = time.monotonic()
        self.process = subprocess.Popen(
            [BINARY, "serve", "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}",
             "--tls-listen", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{self.port}/readyz"
        while time.monotonic() - started < READY_TIMEOUT_S:
            try:
                with urllib.request.urlopen(url, timeout=1) as answer:
                    if answer.status == 200:
                        return (time.monotonic() - started) * 1000
            except OSError:
                pass
            if self.process.poll() is not None:
                sys.exit(f"the server exited with {self.process.returncode}")
            time.sleep(READY_POLL_S)
        sys.exit("the server did not become ready")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def stored_charges(data_dir):
    database = sqlite3.connect(f"file:{os.path.join(data_dir, 'amzpay.db')}?mode=ro", uri=True)
    try:
        return database.execute("SELECT count(*) FROM charges").fetchone()[0]
    finally:
        database.close()


def bench(server, duration, concurrency):
    before = cpu_seconds(server.process.pid)
    output = subprocess.run(
        [BINARY, "bench", "--url", f"http://127.0.0.1:{server.port}",
         "--merchant-file", os.path.join(server.data_dir, "dev-merchant.json"),
         "--scenario", "create-charge", "--concurrency", str(concurrency),
         "--duration", str(duration), "--json"],
        check=True, capture_output=True, text=True).stdout
    after = cpu_seconds(server.process.pid)
    report = json.loads(output)
    if report["errors"]:
        sys.exit(f"the bench counted errors: {report['error_samples']}")
    # The server's CPU over the whole run (its setup included) per timed request.
    report["server_cpu_us_per_request"] = (after - before) * 1e6 / report["requests"]
    return report


def measure(args):
    data_dir = args.data_dir
    shutil.rmtree(data_dir, ignore_errors=True)
    server = Server(data_dir, args.port)
    rows = []
    startup_ms = server.start()
    next_restart = args.restart_every
    try:
        while True:
            charges = stored_charges(data_dir)
            if charges >= next_restart:
                server.stop()
                startup_ms = server.start()
                next_restart += args.restart_every
            report = bench(server, args.duration, args.concurrency)
            row = {
                "charges_before": charges,
                "throughput_rps": round(report["throughput_rps"]),
                "p50_ms": report["latency_ms"]["p50"],
                "p99_ms": report["latency_ms"]["p99"],
                "server_cpu_us_per_request": round(report["server_cpu_us_per_request"], 1),
                "server_rss_mb": round(rss_mb(server.process.pid), 1),
                "load_1min": round(os.getloadavg()[0], 2),
                "startup_ms": round(startup_ms, 1) if startup_ms is not None else "",
            }
            startup_ms = None
            rows.append(row)
            print(json.dumps(row), flush=True)
            if charges >= args.charges:
                break
    finally:
        server.stop()
    with open(CSV_PATH, "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def read_rows():
    with open(CSV_PATH, newline="") as source:
        return list(csv.DictReader(source))


def plot(rows):
    """Three panels over stored charges: throughput and CPU per request; p50 and p99; RSS."""
    width, panel_height, left, right, top, gap = 760, 180, 70, 70, 40, 60
    xs = [float(r["charges_before"]) for r in rows]
    x_max = max(xs) or 1.0
    panels = [
        ("create-charge throughput (req/s, left) and server CPU per request (µs, right)",
         [("throughput_rps", "#1f77b4", "left")], [("server_cpu_us_per_request", "#d62728", "right")]),
        ("latency (ms): p50 and p99",
         [("p50_ms", "#2ca02c", "left"), ("p99_ms", "#ff7f0e", "left")], []),
        ("server resident memory (MB)", [("server_rss_mb", "#9467bd", "left")], []),
        ("start-up to ready (ms): the first start makes the data directory (keys, certificates), then restarts", [("startup_ms", "#8c564b", "left")], []),
    ]
    height = top + len(panels) * (panel_height + gap) + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">amzpay as its database fills '
           f'(stored charges, up to {int(x_max):,})</text>']
    plot_width = width - left - right
    for index, (title, left_series, right_series) in enumerate(panels):
        y0 = top + index * (panel_height + gap)
        out.append(f'<text x="{left}" y="{y0 + 12}">{title}</text>')
        base = y0 + 20 + panel_height - 20
        out.append(f'<rect x="{left}" y="{y0 + 20}" width="{plot_width}" height="{panel_height - 20}" '
                   f'fill="none" stroke="#999"/>')
        for fraction in (0, 0.25, 0.5, 0.75, 1):
            x = left + fraction * plot_width
            out.append(f'<text x="{x}" y="{base + 14}" text-anchor="middle">{int(fraction * x_max):,}</text>')
        for series, side in ((left_series, "left"), (right_series, "right")):
            if not series:
                continue
            values = [float(r[name]) for name, _, _ in series for r in rows if r[name] != ""]
            y_max = (max(values) if values else 1.0) * 1.1 or 1.0
            for fraction in (0, 0.5, 1):
                y = base - fraction * (panel_height - 20)
                x = left - 6 if side == "left" else left + plot_width + 6
                anchor = "end" if side == "left" else "start"
                out.append(f'<text x="{x}" y="{y + 4}" text-anchor="{anchor}">{fraction * y_max:,.0f}</text>')
            for name, colour, _ in series:
                # A run is a point; start-up is measured only at restarts (blank elsewhere).
                xy = [(left + float(r["charges_before"]) / x_max * plot_width,
                       base - float(r[name]) / y_max * (panel_height - 20)) for r in rows if r[name] != ""]
                if not xy:
                    continue
                points = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
                out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
                out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in xy]
                out.append(f'<text x="{left + plot_width - 4}" y="{xy[-1][1] - 6:.1f}" '
                           f'text-anchor="end" fill="{colour}">{name}</text>')
    out.append("</svg>")
    with open(SVG_PATH, "w") as svg:
        svg.write("\n".join(out) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charges", type=int, default=1_000_000, help="stop once this many are stored")
    parser.add_argument("--duration", type=int, default=10, help="seconds per bench run")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--restart-every", type=int, default=250_000,
                        help="restart the server (and time its start-up) every this many charges")
    parser.add_argument("--data-dir", default="/tmp/amzpay-growth")
    parser.add_argument("--port", type=int, default=18191)
    parser.add_argument("--plot-only", action="store_true", help="redraw docs/growth.svg from docs/growth.csv")
    args = parser.parse_args()
    rows = read_rows() if args.plot_only else measure(args)
    plot(rows)


if __name__ == "__main__":
    main()
