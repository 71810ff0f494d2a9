// layerscope report: lazy sections, paged packet tables, explain pane, filter, keyboard,
// themes. Everything it shows from the capture is set as text (textContent), never parsed
// as markup; the only markup it inserts is the page's own ladders and graphs, which the
// page carries as text (escaped when the page was written) until they come near the screen.
(function () {
  "use strict";
  var doc = document;
  var OSI = ["", "physical", "data link", "network", "transport", "session", "presentation", "application"];
  var TCPIP = ["", "link", "link", "internet", "transport", "application", "application", "application"];
  var PAGE = 100;
  // Columns of a row in a table's data (packet_table::ROW_COLUMNS).
  var C = { frame: 0, mark: 1, cls: 2, time: 3, dir: 4, src: 5, dst: 6, flags: 7, seq: 8, ack: 9, len: 10,
    win: 11, step: 12, client: 13, server: 14, l7: 15, teach: 16, words: 17, noexplain: 18 };

  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  // ---- explain data: parsed on the first click -------------------------------------------
  var DATA = null;
  var byFrame = null;
  function explainData() {
    if (!DATA) {
      var dataEl = doc.getElementById("explain-data");
      DATA = dataEl ? JSON.parse(dataEl.textContent) : { frames: [], S: [], max_explained: 0 };
      byFrame = new Map();
      DATA.frames.forEach(function (f) { byFrame.set(f.f, f); });
    }
    return DATA;
  }

  // ---- lazy sections: ladders and graphs become elements near the screen ------------------
  // (A closed box's markup, the graphs', waits until the box is opened.)
  function materialise(root) {
    root.querySelectorAll("script.lazy").forEach(function (s) {
      if (s.closest("details:not([open])")) { return; }
      s.insertAdjacentHTML("beforebegin", s.textContent);
      s.remove();
    });
  }
  doc.addEventListener("toggle", function (ev) {
    if (ev.target.open && ev.target.closest("section[data-shown]")) { materialise(ev.target); }
  }, true);

  // ---- packet tables: data → one page of rows -----------------------------------------------
  var printing = false;
  var selectedFrame = null;
  var tables = Array.prototype.map.call(doc.querySelectorAll("table.packets"), function (t) {
    var pager = t.closest(".table-wrap").nextElementSibling;
    var script = pager.parentNode.querySelector("script.rows");
    var tb = { table: t, tbody: t.tBodies[0], pager: pager, script: script, section: t.closest("section"),
      conn: t.getAttribute("data-conn"), rows: null, text: null, view: null, page: 0, shown: false };
    pager.querySelector(".prev").addEventListener("click", function () { tb.page--; render(tb); });
    pager.querySelector(".next").addEventListener("click", function () { tb.page++; render(tb); });
    return tb;
  });
  function rowsOf(tb) {
    if (!tb.rows) {
      tb.rows = JSON.parse(tb.script.textContent);
      tb.view = tb.rows.map(function (r, i) { return i; });
    }
    return tb.rows;
  }
  function rowText(tb, i) {
    if (!tb.text) { tb.text = []; }
    if (tb.text[i] === undefined) {
      var r = tb.rows[i];
      tb.text[i] = [r[C.frame], r[C.time], r[C.src], r[C.dst], r[C.flags], r[C.step], r[C.client], r[C.server],
        r[C.l7], r[C.teach], r[C.words]].join(" ").toLowerCase();
    }
    return tb.text[i];
  }
  function makeRow(tb, r) {
    var tr = doc.createElement("tr");
    tr.setAttribute("data-frame", String(r[C.frame]));
    if (tb.conn !== null) { tr.setAttribute("data-conn", tb.conn); }
    if (r[C.cls]) { tr.className = r[C.cls]; }
    if (r[C.noexplain]) { tr.setAttribute("data-noexplain", "1"); }
    tr.id = "f" + r[C.frame];
    tr.tabIndex = -1;
    tr.appendChild(el("td", "mark", r[C.mark]));
    tr.appendChild(el("td", "no", String(r[C.frame])));
    [C.time, C.dir, C.src, C.dst, C.flags, C.seq, C.ack, C.len, C.win, C.step, C.client, C.server].forEach(function (c) {
      tr.appendChild(el("td", "", String(r[c])));
    });
    var l7 = el("td", "l7", r[C.l7]);
    if (r[C.teach]) { l7.appendChild(el("div", "teach", r[C.teach])); }
    tr.appendChild(l7);
    if (r[C.frame] === selectedFrame) { tr.classList.add("selected"); }
    return tr;
  }
  function render(tb) {
    rowsOf(tb);
    var n = tb.view.length;
    var pages = Math.max(1, Math.ceil(n / PAGE));
    tb.page = Math.max(0, Math.min(pages - 1, tb.page));
    var from = printing ? 0 : tb.page * PAGE;
    var to = printing ? n : Math.min(n, from + PAGE);
    var frag = doc.createDocumentFragment();
    for (var i = from; i < to; i++) { frag.appendChild(makeRow(tb, tb.rows[tb.view[i]])); }
    tb.tbody.textContent = "";
    tb.tbody.appendChild(frag);
    tb.shown = true;
    tb.pager.hidden = pages <= 1;
    tb.pager.setAttribute("data-page", String(tb.page));
    tb.pager.setAttribute("data-pages", String(pages));
    tb.pager.querySelector(".pageno").textContent = "page " + (tb.page + 1) + " of " + pages;
    tb.pager.querySelector(".rowcount").textContent = "(rows " + (from + 1) + "–" + to + " of " + n +
      (n === tb.rows.length ? "" : " matching") + ", " + PAGE + " a page)";
  }
  function showSection(section) {
    if (!section || section.getAttribute("data-shown") === "1") { return; }
    section.setAttribute("data-shown", "1");
    materialise(section);
    tables.forEach(function (tb) { if (tb.section === section) { render(tb); } });
  }
  var sections = Array.prototype.slice.call(doc.querySelectorAll("section.conn, section#other"));
  if (window.IntersectionObserver) {
    // A section is drawn when within a screen of the visible part. Drawing one makes it
    // taller, so the next ones are measured again before they are drawn.
    var margin = 1000;
    var watcher = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (!e.isIntersecting) { return; }
        var r = e.target.getBoundingClientRect();
        if (r.top > window.innerHeight + margin || r.bottom < -margin) { return; }
        watcher.unobserve(e.target);
        showSection(e.target);
      });
    }, { rootMargin: margin + "px 0px" });
    sections.forEach(function (s) { watcher.observe(s); });
  } else {
    sections.forEach(showSection);
  }
  // Where a frame's row is: [table, index in its data].
  var where = null;
  function locate(frame) {
    if (!where) {
      where = new Map();
      tables.forEach(function (tb) { rowsOf(tb).forEach(function (r, i) { where.set(r[C.frame], [tb, i]); }); });
    }
    return where.get(frame);
  }

  // ---- explain pane -------------------------------------------------------------------
  var pane = doc.getElementById("explain");
  function select(frame, scroll) {
    selectedFrame = frame;
    doc.querySelectorAll(".selected").forEach(function (e) { e.classList.remove("selected"); });
    var at = locate(frame);
    if (at) {
      var tb = at[0];
      showSection(tb.section);
      var vi = tb.view.indexOf(at[1]);
      if (vi >= 0 && Math.floor(vi / PAGE) !== tb.page) { tb.page = Math.floor(vi / PAGE); render(tb); }
    }
    doc.querySelectorAll('tr[data-frame="' + frame + '"], g.arrow[data-frame="' + frame + '"]').forEach(function (e) {
      e.classList.add("selected");
    });
    var tr = doc.querySelector('table.packets tr[data-frame="' + frame + '"]');
    if (tr) {
      if (scroll) { tr.scrollIntoView({ block: "center" }); }
      tr.focus({ preventScroll: true });
    }
    openPane(frame);
  }
  function closePane() {
    pane.hidden = true;
    doc.body.classList.remove("pane-open");
  }
  function highlightLayer(li, on) {
    pane.querySelectorAll('[data-layer="' + li + '"]').forEach(function (e) { e.classList.toggle("hl", on); });
  }
  function openPane(frame) {
    var body = pane.querySelector(".pane-body");
    body.textContent = "";
    pane.querySelector(".pane-title").textContent = "Frame " + frame;
    pane.hidden = false;
    doc.body.classList.add("pane-open");
    var data = explainData();
    var S = data.S;
    var f = byFrame.get(frame);
    if (!f) {
      body.appendChild(el("p", "noexplain", "This packet's explain data is not on the page (the page embeds the first " +
        data.max_explained + "). Run: layerscope explain FILE --frame " + frame));
      return;
    }
    body.appendChild(el("p", "frame-line", f.o + " bytes on the wire, " + f.c + " captured" +
      (f.c > f.b.length / 2 ? " (the first " + f.b.length / 2 + " embedded)" : "")));
    if (f.a) { body.appendChild(el("p", "app-line", "Application: " + f.a)); }
    // OSI and TCP/IP columns.
    var osi = el("table", "osi");
    var head = osi.createTHead().insertRow();
    ["OSI layer", "in this frame", "TCP/IP layer"].forEach(function (h) { head.appendChild(el("th", "", h)); });
    var tb = osi.createTBody();
    for (var n = 7; n >= 1; n--) {
      var tr = tb.insertRow();
      tr.appendChild(el("td", "", n + " " + OSI[n]));
      var cell = el("td", "layers");
      f.L.forEach(function (l, i) {
        if (l[1] === n) {
          var s = el("span", "osi-" + n, S[l[0]] + (l[3] === null ? "" : " [" + l[3] + "," + l[4] + ")"));
          s.setAttribute("data-layer", String(i));
          cell.appendChild(s);
        }
      });
      if (!cell.childNodes.length) { cell.textContent = n === 1 ? "— the signal itself: never captured" : "—"; }
      tr.appendChild(cell);
      tr.appendChild(el("td", "", TCPIP[n]));
    }
    body.appendChild(osi);
    // Fields, by layer.
    var ft = el("table", "fields");
    var fb = ft.createTBody();
    f.L.forEach(function (l, i) {
      var h = fb.insertRow();
      h.className = "layer-head osi-" + l[1];
      h.setAttribute("data-layer", String(i));
      var c = el("td", "", "L" + l[1] + " " + S[l[0]] + (l[3] === null ? " (in the reassembled datagram)" : " [" + l[3] + "," + l[4] + ") " + (l[4] - l[3]) + " bytes"));
      c.colSpan = 3;
      h.appendChild(c);
      f.F.forEach(function (fd) {
        if (fd[0] !== i) { return; }
        var r = fb.insertRow();
        r.className = "field";
        r.setAttribute("data-layer", String(i));
        if (fd[4] !== null && fd[4] !== undefined) {
          r.setAttribute("data-s", String(fd[4]));
          r.setAttribute("data-e", String(fd[5]));
        }
        r.appendChild(el("td", "", S[fd[1]]));
        r.appendChild(el("td", "mono", fd[2]));
        r.appendChild(el("td", "", S[fd[3]]));
      });
    });
    body.appendChild(el("h3", "", "Fields"));
    body.appendChild(ft);
    // Hex dump coloured by layer: a byte belongs to the innermost layer covering it.
    body.appendChild(el("h3", "", "Bytes"));
    var hex = el("div", "hex");
    var nbytes = f.b.length / 2;
    var owner = new Array(nbytes).fill(-1);
    f.L.forEach(function (l, i) {
      if (l[3] === null) { return; }
      for (var k = l[3]; k < Math.min(l[4], nbytes); k++) { owner[k] = i; }
    });
    for (var row = 0; row < nbytes; row += 16) {
      var line = el("div", "hexrow");
      line.appendChild(el("span", "off", ("000" + row.toString(16)).slice(-4) + "  "));
      var ascii = "";
      for (var j = row; j < Math.min(row + 16, nbytes); j++) {
        var byteHex = f.b.substr(j * 2, 2);
        var o = owner[j];
        var b = el("span", "b " + (o >= 0 ? "osi-" + f.L[o][1] : "osi-0"), byteHex);
        b.setAttribute("data-i", String(j));
        if (o >= 0) { b.setAttribute("data-layer", String(o)); b.title = S[f.L[o][0]] + ", byte " + j; }
        line.appendChild(b);
        line.appendChild(doc.createTextNode(j === row + 7 ? "  " : " "));
        var v = parseInt(byteHex, 16);
        ascii += v >= 32 && v < 127 ? String.fromCharCode(v) : ".";
      }
      line.appendChild(el("span", "asc", " " + ascii));
      hex.appendChild(line);
    }
    body.appendChild(hex);
    // Hovering a field lights its own bytes and hovering a byte the field(s) covering it; a
    // field whose bytes are not known, a byte no such field covers, and a layer light the
    // whole layer (its bytes and its fields).
    var rangedRows = Array.prototype.filter.call(body.querySelectorAll("tr.field"), function (r) { return r.hasAttribute("data-s"); });
    var byteSpans = hex.querySelectorAll(".b");
    function hover(e, on) {
      if (e.hasAttribute("data-s")) {
        e.classList.toggle("hl", on);
        for (var k = Number(e.getAttribute("data-s")); k < Math.min(Number(e.getAttribute("data-e")), byteSpans.length); k++) {
          byteSpans[k].classList.toggle("hl", on);
        }
        return;
      }
      if (e.hasAttribute("data-i")) {
        var at = Number(e.getAttribute("data-i"));
        var hits = rangedRows.filter(function (r) { return Number(r.getAttribute("data-s")) <= at && at < Number(r.getAttribute("data-e")); });
        if (hits.length) {
          e.classList.toggle("hl", on);
          hits.forEach(function (r) { r.classList.toggle("hl", on); });
          return;
        }
      }
      highlightLayer(e.getAttribute("data-layer"), on);
    }
    body.querySelectorAll("[data-layer]").forEach(function (e) {
      e.addEventListener("mouseenter", function () { hover(e, true); });
      e.addEventListener("mouseleave", function () { hover(e, false); });
    });
  }
  pane.querySelector(".close").addEventListener("click", closePane);

  doc.addEventListener("click", function (ev) {
    var t = ev.target;
    var link = t.closest && t.closest("[data-goto]");
    if (link) { ev.preventDefault(); select(Number(link.getAttribute("data-goto")), true); return; }
    var row = t.closest && t.closest("table.packets tr[data-frame], g.arrow[data-frame]");
    if (row) { select(Number(row.getAttribute("data-frame")), row.tagName.toLowerCase() === "g"); }
  });

  // ---- filter -------------------------------------------------------------------------
  var box = doc.getElementById("filter");
  var count = doc.getElementById("match-count");
  var connRows = Array.prototype.slice.call(doc.querySelectorAll("table.conns tbody tr"));
  function connText(tr) {
    if (!tr._text) { tr._text = (tr.textContent + " " + (tr.getAttribute("data-words") || "")).toLowerCase(); }
    return tr._text;
  }
  function matches(text, terms) {
    for (var i = 0; i < terms.length; i++) { if (text.indexOf(terms[i]) < 0) { return false; } }
    return true;
  }
  function applyFilter() {
    var filtering = box.value.trim().toLowerCase();
    var terms = filtering === "" ? [] : filtering.split(/\s+/);
    var shown = 0;
    var total = 0;
    var hitConns = new Set();
    tables.forEach(function (tb) {
      rowsOf(tb);
      tb.view = [];
      for (var i = 0; i < tb.rows.length; i++) {
        if (terms.length === 0 || matches(rowText(tb, i), terms)) { tb.view.push(i); }
      }
      total += tb.rows.length;
      shown += tb.view.length;
      if (tb.view.length) { hitConns.add(tb.conn === null ? "other" : tb.conn); }
      tb.page = 0;
      if (tb.shown) { render(tb); }
    });
    connRows.forEach(function (tr) {
      var ok = terms.length === 0 || hitConns.has(tr.getAttribute("data-conn")) || matches(connText(tr), terms);
      tr.classList.toggle("filtered-out", !ok);
      if (ok) { hitConns.add(tr.getAttribute("data-conn")); }
    });
    sections.forEach(function (s) {
      var id = s.getAttribute("data-conn") || "other";
      s.classList.toggle("filtered-out", terms.length > 0 && !hitConns.has(id));
    });
    count.textContent = terms.length ? shown + " of " + total + " packets match" : "";
  }
  box.addEventListener("input", applyFilter);

  // ---- themes -------------------------------------------------------------------------
  var root = doc.documentElement;
  function setTheme(t) {
    root.setAttribute("data-theme", t);
    try { localStorage.setItem("layerscope-theme", t); } catch (e) { /* file: pages may refuse */ }
  }
  try {
    var saved = localStorage.getItem("layerscope-theme");
    if (saved === "dark" || saved === "light") { root.setAttribute("data-theme", saved); }
    else if (window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches) { root.setAttribute("data-theme", "dark"); }
  } catch (e) { /* no storage */ }
  doc.getElementById("theme").addEventListener("click", function () {
    setTheme(root.getAttribute("data-theme") === "dark" ? "light" : "dark");
  });
  var printTheme = null;
  // Printing shows everything: every section drawn, every table whole, every box open.
  window.addEventListener("beforeprint", function () {
    printTheme = root.getAttribute("data-theme");
    root.setAttribute("data-theme", "light");
    printing = true;
    doc.querySelectorAll("details").forEach(function (d) { d.open = true; });
    sections.forEach(showSection);
    materialise(doc);
    tables.forEach(render);
  });
  window.addEventListener("afterprint", function () {
    if (printTheme) { root.setAttribute("data-theme", printTheme); }
    printing = false;
    tables.forEach(function (tb) { if (tb.shown) { render(tb); } });
  });

  // ---- keyboard -----------------------------------------------------------------------
  // The packet after (or before) the selected one, in table order, through pages and
  // tables; only rows the filter leaves count.
  function step(down) {
    var at = selectedFrame === null ? null : locate(selectedFrame);
    var vi = at ? at[0].view.indexOf(at[1]) : -1;
    var ti = 0;
    if (vi >= 0) {
      ti = tables.indexOf(at[0]);
      vi += down ? 1 : -1;
    } else {
      down = true;
      vi = 0;
    }
    while (ti >= 0 && ti < tables.length) {
      var tb = tables[ti];
      rowsOf(tb);
      if (vi >= 0 && vi < tb.view.length) { return tb.rows[tb.view[vi]][C.frame]; }
      ti += down ? 1 : -1;
      if (ti >= 0 && ti < tables.length) { rowsOf(tables[ti]); vi = down ? 0 : tables[ti].view.length - 1; }
    }
    return null;
  }
  doc.addEventListener("keydown", function (ev) {
    if (ev.target === box) {
      if (ev.key === "Escape") { box.value = ""; applyFilter(); box.blur(); }
      if (ev.key === "Enter") { box.blur(); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (ev.key === "/") { ev.preventDefault(); box.focus(); return; }
    if (ev.key === "Escape") { closePane(); return; }
    if (ev.key === "t") { setTheme(root.getAttribute("data-theme") === "dark" ? "light" : "dark"); return; }
    var down = ev.key === "j" || ev.key === "ArrowDown";
    var up = ev.key === "k" || ev.key === "ArrowUp";
    if (!down && !up) { return; }
    ev.preventDefault();
    var next = step(down);
    if (next !== null) { select(next, true); }
  });
  // `#f123` (in the address, or a link) selects frame 123, drawing its page first.
  function fromHash() {
    if (/^#f[0-9]+$/.test(location.hash)) { select(Number(location.hash.slice(2)), true); }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
  root.setAttribute("data-ready", "1");
  if (window.performance && performance.mark) { performance.mark("layerscope-ready"); }
})();
