#!/usr/bin/env python3
"""Drives a layerscope HTML report in headless Chromium (Debian's chromium and
chromium-driver, through selenium) and prints what the page shows as one JSON object; the
Rust test (tests/integration/report_browser.rs) compares it with layerscope's JSON output.

usage: report_check.py REPORT.html SHOTS_DIR [--frame N] [--filter TEXT] [--hostile]

Exit 2 (and a line starting with MISSING) when selenium, chromium or chromedriver are not
installed. The driver is always /usr/bin/chromedriver: selenium never downloads one.
"""
import base64
import json
import os
import shutil
import sys
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"


def missing(what):
    print("MISSING " + what)
    sys.exit(2)


try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:
    missing("python selenium (pip install selenium)")
for path in (CHROMIUM, DRIVER):
    if not os.path.exists(path):
        missing(path + " (apt-get install chromium chromium-driver)")


def page_through(driver):
    """Every table scrolled to and paged to its end: the frames of the rows drawn, in
    order, and how many rows of a connection's table lacked data-conn."""
    frames, bad = [], 0
    tables = driver.find_elements(By.CSS_SELECTOR, "table.packets")
    for t in tables:
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", t)
        for _ in range(100):
            if driver.execute_script("return arguments[0].tBodies[0].rows.length", t) > 0:
                break
            time.sleep(0.02)
        conn = t.get_attribute("data-conn")
        while True:
            rows = driver.execute_script(
                "return Array.from(arguments[0].tBodies[0].rows).map(function (r) {"
                " return [Number(r.getAttribute('data-frame')), r.getAttribute('data-conn')]; })", t)
            frames.extend(f for f, _ in rows)
            bad += sum(1 for _, c in rows if c != conn)
            pager = t.find_element(By.XPATH, "./ancestor::div[@class='table-wrap']/following-sibling::div[@class='pager']")
            if pager.get_attribute("hidden") is not None or \
                    pager.get_attribute("data-page") == str(int(pager.get_attribute("data-pages")) - 1):
                break
            pager.find_element(By.CSS_SELECTOR, ".next").click()
    driver.execute_script("window.scrollTo(0, 0)")
    return frames, bad


def main():
    args = sys.argv[1:]
    report, shots = os.path.abspath(args[0]), args[1]
    frame = int(args[args.index("--frame") + 1]) if "--frame" in args else None
    filt = args[args.index("--filter") + 1] if "--filter" in args else None
    hostile = "--hostile" in args
    os.makedirs(shots, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="layerscope-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1600,1000", "--user-data-dir=" + profile):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    out = {}
    try:
        driver.get("file://" + report)
        for _ in range(100):
            if driver.execute_script("return document.documentElement.getAttribute('data-ready')") == "1":
                break
            time.sleep(0.05)
        out["ready"] = driver.execute_script("return document.documentElement.getAttribute('data-ready')") == "1"
        out["load_ms"] = driver.execute_script(
            "var n = performance.getEntriesByType('navigation')[0]; return n ? n.loadEventEnd - n.startTime : null")
        q = lambda sel: driver.execute_script("return document.querySelectorAll(arguments[0]).length", sel)
        out["conn_rows"] = q("table.conns tbody tr[data-conn]")
        out["conn_sections"] = q("section.conn[data-conn]")
        out["ready_ms"] = driver.execute_script(
            "var m = performance.getEntriesByName('layerscope-ready')[0]; return m ? m.startTime : null")
        out["dom_nodes"] = q("*")
        # The packet tables: what their data says, and what paging shows. Each table is
        # scrolled to (its rows are drawn when it comes near the screen) and paged through
        # to the end; every row it draws carries data-frame (and data-conn in a connection).
        out["data_frames"] = driver.execute_script(
            "return [].concat.apply([], Array.from(document.querySelectorAll('script.rows'))"
            ".map(function (s) { return JSON.parse(s.textContent).map(function (r) { return r[0]; }); }))")
        out["packet_rows"] = len(out["data_frames"])
        out["rendered_rows_at_load"] = q("table.packets tbody tr[data-frame]")
        out["frames"], out["rows_without_conn"] = page_through(driver)
        out["packet_rows_rendered"] = len(out["frames"])
        out["summary_frames"] = driver.execute_script(
            "var e = document.querySelector('[data-count=frames]'); return e ? Number(e.textContent) : null")
        # Markup still held as text, outside closed boxes (none once every section was
        # scrolled to); the graphs' closed boxes are drawn when opened. The observer that
        # draws a section near the screen reports asynchronously: wait for it (up to 10 s).
        lazy_open = ("return Array.from(document.querySelectorAll('script.lazy')).filter(function (s) {"
                     " return !s.closest('details:not([open])'); }).length")
        deadline = time.time() + 10
        while time.time() < deadline and driver.execute_script(lazy_open) > 0:
            time.sleep(0.05)
        out["lazy_left"] = driver.execute_script(lazy_open)
        out["ladder_arrows"] = q("svg.ladder g.arrow[data-frame]")
        out["graphs_closed"] = q(".graphs svg")
        for summary in driver.find_elements(By.CSS_SELECTOR, "details.graphs > summary"):
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", summary)
            summary.click()
        # A box's "toggle" event is queued, not fired by the click itself: wait until every
        # opened box has drawn what it held (no markup left as text inside an open box).
        deadline = time.time() + 10
        while time.time() < deadline and driver.execute_script(
                "return document.querySelectorAll('details.graphs[open] script.lazy').length") > 0:
            time.sleep(0.05)
        out["graphs"] = q(".graphs svg")
        out["lazy_left_after_open"] = q("script.lazy")
        out["story_links"] = q("#story a[data-goto]")
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(os.path.join(shots, "report-light.png"))
        if "--print" in args:
            # Print media: the controls and the pane are hidden, the page light; before
            # printing every table is drawn whole, after it paged again; a PDF is kept.
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
            out["print_hidden"] = driver.execute_script(
                "return ['#filter', '#theme', '.pager', '#explain', '.keys'].map(function (s) {"
                " var e = document.querySelector(s); return e ? getComputedStyle(e).display : 'none'; })")
            out["print_rows"] = driver.execute_script(
                "window.dispatchEvent(new Event('beforeprint'));"
                "var n = document.querySelectorAll('table.packets tbody tr[data-frame]').length;"
                "window.__printTheme = document.documentElement.getAttribute('data-theme');"
                "window.dispatchEvent(new Event('afterprint')); return n")
            out["print_theme"] = driver.execute_script("return window.__printTheme")
            out["rows_after_print"] = q("table.packets tbody tr[data-frame]")
            pdf = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})
            with open(os.path.join(shots, "report.pdf"), "wb") as fh:
                fh.write(base64.b64decode(pdf["data"]))
            out["pdf_bytes"] = os.path.getsize(os.path.join(shots, "report.pdf"))
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        if frame is not None:
            if not driver.find_elements(By.CSS_SELECTOR, 'tr[data-frame="%d"]' % frame):
                # Not on the page of rows drawn: the address #fN draws it.
                driver.execute_script("location.hash = '#f%d'" % frame)
            row = driver.find_element(By.CSS_SELECTOR, 'tr[data-frame="%d"]' % frame)
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
            row.click()
            pane = driver.find_element(By.ID, "explain")
            out["pane_visible"] = pane.is_displayed()
            out["pane_title"] = pane.find_element(By.CSS_SELECTOR, ".pane-title").text
            out["pane_layers"] = driver.execute_script(
                "return Array.from(document.querySelectorAll('#explain tr.layer-head')).map(function (r) { return r.textContent; })")
            out["pane_fields"] = driver.execute_script(
                "return Array.from(document.querySelectorAll('#explain tr.field')).map(function (r) {"
                " return [Number(r.getAttribute('data-layer'))].concat(Array.from(r.cells).map(function (c) { return c.textContent; })); })")
            out["pane_osi"] = driver.execute_script(
                "return Array.from(document.querySelectorAll('#explain table.osi tbody tr')).map(function (r) {"
                " return Array.from(r.cells).map(function (c) { return c.textContent; }); })")
            out["hex_bytes"] = q("#explain .hex .b")
            out["hex_text"] = driver.execute_script(
                "return Array.from(document.querySelectorAll('#explain .hex .b')).map(function (b) { return b.textContent; }).join('')")
            # Hover the TCP layer's "seq" field: its own bytes light up.
            tcp_field = driver.execute_script(
                "var h = Array.from(document.querySelectorAll('#explain tr.layer-head')).find(function (r) { return r.textContent.indexOf('TCP') >= 0; });"
                "if (!h) return null; var l = h.getAttribute('data-layer');"
                "return Array.from(document.querySelectorAll('#explain tr.field[data-layer=\"' + l + '\"]'))"
                ".find(function (r) { return r.cells[0].textContent === 'seq'; }) || null;")
            if tcp_field is not None:
                ActionChains(driver).move_to_element(tcp_field).perform()
                out["hover_field_layer"] = int(tcp_field.get_attribute("data-layer"))
                out["hover_field_bytes"] = driver.execute_script(
                    "return Array.from(document.querySelectorAll('#explain .hex .b.hl')).map(function (b) { return Number(b.getAttribute('data-i')); })")
                driver.save_screenshot(os.path.join(shots, "report-explain.png"))
                out["hover_field_rows"] = driver.execute_script(
                    "return Array.from(document.querySelectorAll('#explain tr.field.hl')).map(function (r) { return r.cells[0].textContent; })")
                # And the reverse: a byte of the IP header lights the IP field(s) covering it.
                byte = driver.find_element(By.CSS_SELECTOR, '#explain .hex .b[data-i="20"]')
                ActionChains(driver).move_to_element(byte).perform()
                out["hover_byte_layer"] = int(byte.get_attribute("data-layer"))
                out["hover_byte_fields"] = driver.execute_script(
                    "return Array.from(document.querySelectorAll('#explain tr.field.hl')).map(function (r) {"
                    " return [Number(r.getAttribute('data-layer')), r.cells[0].textContent]; })")
                out["hover_byte_bytes"] = driver.execute_script(
                    "return Array.from(document.querySelectorAll('#explain .hex .b.hl')).map(function (b) { return Number(b.getAttribute('data-i')); })")
            out["pane_app"] = driver.execute_script(
                "var a = document.querySelector('#explain .app-line'); return a ? a.textContent : null")
            if "--hover" in args:
                # --hover "LAYER:FIELD": the first layer whose head names LAYER, its field.
                title, name = args[args.index("--hover") + 1].split(":", 1)
                target = driver.execute_script(
                    "var title = arguments[0], name = arguments[1];"
                    "var h = Array.from(document.querySelectorAll('#explain tr.layer-head')).find(function (r) {"
                    " return r.textContent.indexOf(' ' + title + ' ') >= 0; });"
                    "if (!h) return null; var l = h.getAttribute('data-layer');"
                    "return Array.from(document.querySelectorAll('#explain tr.field[data-layer=\"' + l + '\"]'))"
                    ".find(function (r) { return r.cells[0].textContent === name; }) || null;", title, name)
                if target is not None:
                    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
                    ActionChains(driver).move_to_element(target).perform()
                    out["hover_named_bytes"] = driver.execute_script(
                        "return Array.from(document.querySelectorAll('#explain .hex .b.hl')).map(function (b) { return Number(b.getAttribute('data-i')); })")
                    out["hover_named_rows"] = driver.execute_script(
                        "return Array.from(document.querySelectorAll('#explain tr.field.hl')).map(function (r) { return r.cells[0].textContent; })")
                    driver.save_screenshot(os.path.join(shots, "report-hover-named.png"))
            # Keyboard: j moves to the next packet row.
            driver.find_element(By.TAG_NAME, "body").send_keys("j")
            out["after_j"] = driver.find_element(By.CSS_SELECTOR, "#explain .pane-title").text
            out["after_j_row_drawn"] = driver.execute_script(
                "var r = document.querySelector('tr.selected[data-frame]'); return r ? Number(r.getAttribute('data-frame')) : null")
            driver.find_element(By.TAG_NAME, "body").send_keys("k")
            out["after_k"] = driver.find_element(By.CSS_SELECTOR, "#explain .pane-title").text
            driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
            out["pane_after_escape"] = driver.find_element(By.ID, "explain").is_displayed()
            # "/" focuses the filter box, Escape there leaves it; "t" switches the theme
            # (and back).
            driver.find_element(By.TAG_NAME, "body").send_keys("/")
            out["slash_focus"] = driver.execute_script("return document.activeElement.id")
            driver.switch_to.active_element.send_keys(Keys.ESCAPE)
            out["escape_focus"] = driver.execute_script("return document.activeElement.id")
            driver.find_element(By.TAG_NAME, "body").send_keys("t")
            out["t_theme"] = driver.execute_script("return document.documentElement.getAttribute('data-theme')")
            driver.find_element(By.TAG_NAME, "body").send_keys("t")
        if filt is not None:
            box = driver.find_element(By.ID, "filter")
            box.send_keys(filt)
            out["filter_rows"] = driver.execute_script(
                "return Array.from(document.querySelectorAll('table.packets tbody tr[data-frame]'))"
                ".filter(function (r) { return r.offsetParent !== null; })"
                ".map(function (r) { return Number(r.getAttribute('data-frame')); })")
            out["filter_count_text"] = driver.find_element(By.ID, "match-count").text
            driver.save_screenshot(os.path.join(shots, "report-filter.png"))
            box.clear()
            box.send_keys(" ")
            box.send_keys(Keys.BACKSPACE)
        # Theme.
        before = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        driver.find_element(By.ID, "theme").click()
        out["theme"] = driver.execute_script("return document.documentElement.getAttribute('data-theme')")
        out["bg_before"] = before
        out["bg_after"] = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        driver.save_screenshot(os.path.join(shots, "report-dark.png"))
        if hostile:
            out["pwned"] = driver.execute_script("return window.__pwned === 1 || document.title.indexOf('pwned') >= 0")
            out["scripts"] = q("script:not([type])")
            out["script_types"] = driver.execute_script(
                "return Array.from(new Set(Array.from(document.querySelectorAll('script')).map(function (s) { return s.type; }))).sort()")
            out["injected_elements"] = q("main script:not([type=\"application/json\"]), main img, main iframe, main b[id=x]")
            out["cells_text"] = driver.execute_script(
                "return Array.from(document.querySelectorAll('td.l7, td.uri')).map(function (c) { return c.textContent; })")
        # Network: every resource the page loaded, and every request the browser sent.
        out["resources"] = driver.execute_script(
            "return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
        requests = []
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                requests.append(msg["params"]["request"]["url"])
        out["requests"] = requests
        out["console"] = [e["level"] + " " + e["message"] for e in driver.get_log("browser")]
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
