"""Certificate PDF benchmark: `make bench`.

Prints one line per figure as ``name: value unit``, for classes of 100 and 500 Vietnamese certificates with
QR codes:

* (a) ``naive`` — what most apps do (Indico among them): a new ``HTML(...).write_pdf()`` per trainee, the
  stylesheet inline in each document (parsed every time, @font-face loaded every time), no shared
  ``FontConfiguration``, the QR code as an inline SVG path. For 500 it is extrapolated from a sample of 50 (the
  line says so).
* (b) ``multipage`` — all certificates as ONE multi-page document, in one warm process, every page laid out in
  full (as one certificate on demand is), PDF written once (no split, no ZIP). ``multipage_layered``: the same
  document drawn in layers, as the pipeline's chunks are (what the class's pages share, once per document as a
  PDF Form XObject; each page then holds only its trainee's text — see certificates/render.py).
* (c) ``pipeline`` — the product: ``render_batch`` (chunks of 50 in layers, 2 worker processes, merged PDF +
  ZIP split with pypdf). ``cold``: the first batch of a process (the worker pool is started); ``warm``: the median
  of the next 3 (the pool is kept, as in a background worker), each a different class (new QR codes); their min
  and max are printed too, since other processes' load makes single wall-clock figures jumpy.
* peak RSS per process (``resource.getrusage``, self and reaped children, MB); ratio a/c; one certificate on
  demand in a warm process.

Every scenario runs in its own fresh process, so the peak-memory figures do not mix. Run from the repository
root: ``python bench/bench_certificates.py`` (``--quick`` for 20/120 certificates). The machine's load average
is printed first and last: on a shared 2-core machine, other processes' load inflates every wall-clock figure;
the ``cpu_ms_per_cert`` lines (CPU time of every process involved) are less sensitive to it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Thạch", "Danh"]
MIDDLE = ["Thị", "Văn", "Ngọc", "Thị Mỹ", "Hữu", "Thị Ẫn", "Quốc", "Thị Ặng", "Minh", "Thanh", "Kim", "Đức"]
GIVEN = ["Phương", "Lan", "Hùng", "Dũng", "Ữ", "Tuyết", "Sự", "Đạt", "Hằng", "Ngọc Ánh", "Khánh Vy", "Sóc Kha", "Thảo", "Lực", "Mẫn", "Ẩn"]
UNITS = ["UBND phường Ninh Kiều", "UBND xã Cờ Đỏ", "Hội Liên hiệp Phụ nữ xã Vĩnh Thạnh", "Ban vì sự tiến bộ của phụ nữ phường Cái Khế", "Đoàn Thanh niên phường Sóc Trăng"]


def make_class(n: int) -> list[dict]:
    """``n`` realistic snapshots: varied Vietnamese names (every tone mark, Đ), units, numbers, verify codes."""
    import secrets

    from bdg_training.certificates.render import sample_snapshot

    rows = []
    for i in range(n):
        code = secrets.token_urlsafe(12)
        sex = "Bà" if i % 3 else "Ông"
        name = f"{FAMILY[i % len(FAMILY)]} {MIDDLE[(i // 3) % len(MIDDLE)]} {GIVEN[(i * 7) % len(GIVEN)]}"
        rows.append(
            sample_snapshot(
                number=f"{i + 1:02d}/2026/GCN-SNV",
                salutation=sex,
                full_name=name,
                date_of_birth=(date(1970, 1, 1) + timedelta(days=97 * i)).strftime("%d/%m/%Y"),
                work_unit=UNITS[i % len(UNITS)],
                verify_url=f"http://127.0.0.1:5000/verify/{code}",
                verify_code=code,
            )
        )
    return rows


def _rss() -> dict:
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"rss_self_mb": round(self_mb, 1), "rss_children_mb": round(children_mb, 1)}


def _proc(pid: int) -> tuple[float, float]:
    """(peak RSS in MB, CPU seconds) of a live process, from /proc (Linux)."""
    peak = 0.0
    with open(f"/proc/{pid}/status") as status:
        for row in status:
            if row.startswith("VmHWM:"):
                peak = int(row.split()[1]) / 1024
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return peak, (int(fields[11]) + int(fields[12])) / ticks


def _workers() -> list[int]:
    from bdg_training.certificates import render

    pool = render._POOL
    return list(getattr(pool, "_processes", {}) or {}) if pool is not None else []


# --- scenarios (each runs in a child process) --------------------------------------------------------


def _svg_qr(html: str, url: str) -> str:
    """The naive pattern's QR code: an inline SVG path that WeasyPrint interprets (the product draws the code
    straight into the PDF instead, see certificates/render.py)."""
    from bdg_training.certificates import qr

    size, path = qr.qr_path(url)
    svg = (
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 {size + 4} {size + 4}" width="26mm" height="26mm">'
        f'<path fill="none" stroke="#000" stroke-width="1" d="{path}"/></svg>'
    )
    return html.replace('<div class="qr" data-qr></div>', svg, 1)


def naive(n: int) -> dict:
    """(a) one HTML document per trainee, its own <style> (fonts included), no shared FontConfiguration, the
    QR code as an inline SVG."""
    from weasyprint import HTML

    from bdg_training import pdf
    from bdg_training.certificates import render

    css = pdf._base_css_text() + "".join((pdf.STATIC_DIR / p).read_text(encoding="utf-8") for p in render.STYLESHEETS)
    snapshots = make_class(n)
    cpu = time.process_time()
    start = time.perf_counter()
    for s in snapshots:
        body = _svg_qr(render.render_html([s]), s["verify_url"])
        html = body.replace("</head>", f"<style>{css}</style></head>", 1)
        out = HTML(string=html, base_url=pdf.DEFAULT_BASE_URL, url_fetcher=pdf.StaticFetcher()).write_pdf()
        assert out.startswith(b"%PDF")
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return {"ms_per_cert": elapsed * 1000 / n, "cpu_ms_per_cert": cpu * 1000 / n, "total_s": elapsed, **_rss()}


def _multipage(n: int, layered: bool) -> dict:
    from bdg_training.certificates import render

    warm_ms = render.warm_up()
    snapshots = make_class(n)
    cpu = time.process_time()
    start = time.perf_counter()
    out = render.render_pdf(snapshots, layered=layered)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    assert out.startswith(b"%PDF")
    return {"ms_per_cert": elapsed * 1000 / n, "cpu_ms_per_cert": cpu * 1000 / n, "total_s": elapsed, "warm_up_ms": warm_ms, **_rss()}


def multipage(n: int) -> dict:
    """(b) all certificates as one multi-page document in this (warm) process, every page laid out in full
    (as on demand); no split, no ZIP."""
    return _multipage(n, layered=False)


def layered(n: int) -> dict:
    """(b') the same document drawn in layers, as the pipeline's chunks are (shared layer + per-trainee slots)."""
    return _multipage(n, layered=True)


WARM_BATCHES = 3


def pipeline(n: int) -> dict:
    """(c) render_batch: merged PDF + ZIP; the first batch (the pool is started), then ``WARM_BATCHES`` more
    (the pool is kept), each of another class; the warm figures are their median."""
    from bdg_training.certificates import render

    warm_ms = render.warm_up()  # what an app / job worker does once at start
    runs, cpus = [], []
    for _ in range(1 + WARM_BATCHES):
        snapshots = make_class(n)  # new verify codes (QR codes) every time
        before = {pid: _proc(pid)[1] for pid in _workers()}
        cpu = time.process_time()
        start = time.perf_counter()
        result = render.render_batch(snapshots, chunk_size=50, workers=2)
        runs.append(time.perf_counter() - start)
        worker_cpu = sum(_proc(pid)[1] - before.get(pid, 0.0) for pid in _workers())
        cpus.append(time.process_time() - cpu + worker_cpu)
        assert result.pages == n
    worker_peaks = [_proc(pid)[0] for pid in _workers()]
    render.shutdown_pool()
    warm, warm_cpu = statistics.median(runs[1:]), statistics.median(cpus[1:])
    return {
        "cold_s": runs[0],
        "warm_s": warm,
        "warm_min_s": min(runs[1:]),
        "warm_max_s": max(runs[1:]),
        "cold_ms_per_cert": runs[0] * 1000 / n,
        "ms_per_cert": warm * 1000 / n,
        "cpu_ms_per_cert": warm_cpu * 1000 / n,
        "workers": len(worker_peaks),
        "rss_worker_mb": max(worker_peaks, default=0.0),
        "warm_up_ms": warm_ms,
        "merged_mb": len(result.merged_pdf) / 1e6,
        "zip_mb": len(result.zip_bytes) / 1e6,
        **_rss(),
    }


def on_demand(n: int) -> dict:
    """One certificate on demand in a warm process: median of ``n`` renders (different trainees)."""
    from bdg_training import pdf
    from bdg_training.certificates import render

    start = time.perf_counter()
    warm_ms = pdf.warm_up(render.STYLESHEETS)  # fonts, stylesheets, probe
    sample_ms = render.warm_up()  # + templates and two sample certificates
    first_ready_ms = (time.perf_counter() - start) * 1000
    snapshots = make_class(n + 1)
    render.render_one(snapshots[0])  # first real render: Jinja compile, layout caches
    times = []
    for s in snapshots[1:]:
        t = time.perf_counter()
        render.render_one(s)
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": statistics.median(times), "p90_ms": sorted(times)[int(len(times) * 0.9) - 1], "warm_up_ms": warm_ms, "sample_ms": sample_ms, "ready_ms": first_ready_ms, **_rss()}


SCENARIOS = {"naive": naive, "multipage": multipage, "layered": layered, "pipeline": pipeline, "on_demand": on_demand}


def run_child(scenario: str, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--scenario", scenario, "--n", str(n)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def line(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:.2f} {unit}".rstrip() if unit in ("x", "") else f"{name}: {value:.1f} {unit}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", choices=SCENARIOS)
    parser.add_argument("--n", type=int)
    parser.add_argument("--quick", action="store_true", help="20 and 120 certificates instead of 100 and 500")
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(SCENARIOS[args.scenario](args.n)))
        return

    sizes = (20, 120) if args.quick else (100, 500)
    naive_sample = 50
    print(f"# certificate PDF benchmark — {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}", flush=True)
    line("load_average_1min_at_start", os.getloadavg()[0], "")
    for n in sizes:
        sample = min(n, naive_sample) if n > 100 else n
        a = run_child("naive", sample)
        b = run_child("multipage", n)
        bl = run_child("layered", n)
        c = run_child("pipeline", n)
        suffix = f" (extrapolated from {sample})" if sample != n else ""
        line(f"naive_{n}_ms_per_cert{suffix}", a["ms_per_cert"], "ms")
        line(f"multipage_{n}_ms_per_cert", b["ms_per_cert"], "ms")
        line(f"multipage_layered_{n}_ms_per_cert", bl["ms_per_cert"], "ms")
        line(f"pipeline_{n}_ms_per_cert", c["ms_per_cert"], "ms")
        line(f"ratio_a_c_{n}", a["ms_per_cert"] / c["ms_per_cert"], "x")
        line(f"pipeline_{n}_total_merged_pdf_and_zip", c["warm_s"], "s")
        line(f"pipeline_{n}_total_first_batch_incl_pool_start", c["cold_s"], "s")
        line(f"pipeline_{n}_total_warm_batches_min_of_{WARM_BATCHES}", c["warm_min_s"], "s")
        line(f"pipeline_{n}_total_warm_batches_max_of_{WARM_BATCHES}", c["warm_max_s"], "s")
        line(f"naive_{n}_cpu_ms_per_cert{suffix}", a["cpu_ms_per_cert"], "ms")
        line(f"multipage_{n}_cpu_ms_per_cert", b["cpu_ms_per_cert"], "ms")
        line(f"multipage_layered_{n}_cpu_ms_per_cert", bl["cpu_ms_per_cert"], "ms")
        line(f"pipeline_{n}_cpu_ms_per_cert_all_processes", c["cpu_ms_per_cert"], "ms")
        line(f"naive_{n}_peak_rss_process", a["rss_self_mb"], "MB")
        line(f"multipage_{n}_peak_rss_process", b["rss_self_mb"], "MB")
        line(f"pipeline_{n}_peak_rss_main_process", c["rss_self_mb"], "MB")
        line(f"pipeline_{n}_peak_rss_per_render_worker ({c['workers']} workers)", c["rss_worker_mb"], "MB")
        line(f"pipeline_{n}_merged_pdf_size", c["merged_mb"], "MB")
        line(f"pipeline_{n}_zip_size", c["zip_mb"], "MB")
    d = run_child("on_demand", 20)
    line("on_demand_warm_ms (median of 20)", d["median_ms"], "ms")
    line("on_demand_warm_p90_ms", d["p90_ms"], "ms")
    line("process_warm_up_ms (fonts, stylesheets, probe)", d["warm_up_ms"], "ms")
    line("process_warm_up_then_sample_certificates_ms", d["sample_ms"], "ms")
    line("on_demand_peak_rss_process", d["rss_self_mb"], "MB")
    line("load_average_1min_at_end", os.getloadavg()[0], "")


if __name__ == "__main__":
    main()
