#!/usr/bin/env python3
"""How fast a layerscope HTML report opens in headless Chromium (Debian's chromium and
chromedriver through selenium; the same browser the tests use).

usage: bench/report_load.py REPORT.html [RUNS]

Prints one JSON line a run: the page's size; Chromium's navigation timing (response end,
DOMContentLoaded, load); `ready_ms`, the page's own `layerscope-ready` mark (its script has
run: filter, keys, theme and explain work from then on); the element count at ready; then
the first connection section scrolled to (`section_ms`: until its packet rows are drawn) and
its first row clicked (`explain_ms`: until the explain pane shows its fields, the explain
data being parsed on this first click).
"""
import json
import os
import shutil
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def run(page):
    profile = tempfile.mkdtemp(prefix="layerscope-bench-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--disable-dev-shm-usage", "--window-size=1600,1000", "--user-data-dir=" + profile):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        d.get("file://" + page)
        while d.execute_script("return document.documentElement.getAttribute('data-ready')") != "1":
            time.sleep(0.01)
        out = {"page_mb": round(os.path.getsize(page) / 1e6, 1)}
        out.update(d.execute_script("""
          var n = performance.getEntriesByType('navigation')[0];
          var r = performance.getEntriesByName('layerscope-ready')[0];
          return {response_end_ms: Math.round(n.responseEnd), dom_content_loaded_ms: Math.round(n.domContentLoadedEventEnd),
                  load_ms: Math.round(n.loadEventEnd), ready_ms: r ? Math.round(r.startTime) : null,
                  elements_at_ready: document.getElementsByTagName('*').length};"""))
        out["section_ms"] = d.execute_async_script("""
          var done = arguments[arguments.length - 1];
          var s = document.querySelector('section.conn'); if (!s) { done(null); return; }
          var t0 = performance.now(); s.scrollIntoView();
          (function wait() { if (s.querySelector('table.packets tbody tr')) { done(Math.round(performance.now() - t0)); } else { setTimeout(wait, 5); } })();""")
        out["explain_ms"] = d.execute_script("""
          var r = document.querySelector('section.conn table.packets tbody tr'); if (!r) return null;
          var t0 = performance.now(); r.click();
          return document.querySelector('#explain tr.field') ? Math.round(performance.now() - t0) : null;""")
        out["elements_after"] = d.execute_script("return document.getElementsByTagName('*').length")
        return out
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    page = os.path.abspath(sys.argv[1])
    for _ in range(int(sys.argv[2]) if len(sys.argv) > 2 else 1):
        print(json.dumps(run(page)))
