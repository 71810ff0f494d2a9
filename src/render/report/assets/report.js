// layerscope report: explain pane, filter, paging, keyboard, themes. Everything it shows
// from the capture is set as text (textContent), never parsed as markup.
(function () {
  "use strict";
  var doc = document;
  var dataEl = doc.getElementById("explain-data");
  var DATA = dataEl ? JSON.parse(dataEl.textContent) : { frames: [], S: [] };
  var S = DATA.S;
  var byFrame = new Map();
  DATA.frames.forEach(function (f) { byFrame.set(f.f, f); });
  var OSI = ["", "physical", "data link", "network", "transport", "session", "presentation", "application"];
  var TCPIP = ["", "link", "link", "internet", "transport", "application", "application", "application"];

  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  // ---- paging -------------------------------------------------------------------------
  function tableOf(pager) { return pager.previousElementSibling.querySelector("table"); }
  function showPage(pager, page) {
    var pages = Number(pager.getAttribute("data-pages"));
    page = Math.max(0, Math.min(pages - 1, page));
    pager.setAttribute("data-page", String(page));
    var rows = tableOf(pager).tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) {
      rows[i].classList.toggle("paged-out", filtering === "" && Number(rows[i].getAttribute("data-page")) !== page);
    }
    pager.querySelector(".pageno").textContent = "page " + (page + 1) + " of " + pages;
  }
  var pagers = Array.prototype.slice.call(doc.querySelectorAll(".pager"));
  pagers.forEach(function (p) {
    p.querySelector(".prev").addEventListener("click", function () { showPage(p, Number(p.getAttribute("data-page")) - 1); });
    p.querySelector(".next").addEventListener("click", function () { showPage(p, Number(p.getAttribute("data-page")) + 1); });
  });
  var filtering = "";
  pagers.forEach(function (p) { showPage(p, 0); });
  function revealRow(tr) {
    if (!tr.classList.contains("paged-out")) { return; }
    var wrap = tr.closest(".table-wrap");
    var pager = wrap && wrap.nextElementSibling;
    if (pager && pager.classList.contains("pager")) { showPage(pager, Number(tr.getAttribute("data-page"))); }
  }

  // ---- explain pane -------------------------------------------------------------------
  var pane = doc.getElementById("explain");
  var selected = null;
  function rowsOf(frame) { return doc.querySelectorAll('tr[data-frame="' + frame + '"], g.arrow[data-frame="' + frame + '"]'); }
  function select(frame, scroll) {
    doc.querySelectorAll(".selected").forEach(function (e) { e.classList.remove("selected"); });
    var rows = rowsOf(frame);
    rows.forEach(function (e) { e.classList.add("selected"); });
    var tr = doc.querySelector('tr[data-frame="' + frame + '"]');
    selected = tr;
    if (tr) {
      revealRow(tr);
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
    var f = byFrame.get(frame);
    if (!f) {
      body.appendChild(el("p", "noexplain", "This packet's explain data is not on the page (the page embeds the first " +
        DATA.max_explained + "). Run: layerscope explain FILE --frame " + frame));
      return;
    }
    body.appendChild(el("p", "frame-line", f.o + " bytes on the wire, " + f.c + " captured" +
      (f.c > f.b.length / 2 ? " (the first " + f.b.length / 2 + " embedded)" : "")));
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
  var allRows = Array.prototype.slice.call(doc.querySelectorAll("table.packets tbody tr"));
  var connRows = Array.prototype.slice.call(doc.querySelectorAll("table.conns tbody tr"));
  var sections = Array.prototype.slice.call(doc.querySelectorAll("section.conn, section#other"));
  function rowText(tr) {
    if (!tr._text) { tr._text = (tr.textContent + " " + (tr.getAttribute("data-words") || "")).toLowerCase(); }
    return tr._text;
  }
  function matches(text, terms) {
    for (var i = 0; i < terms.length; i++) { if (text.indexOf(terms[i]) < 0) { return false; } }
    return true;
  }
  function applyFilter() {
    filtering = box.value.trim().toLowerCase();
    var terms = filtering === "" ? [] : filtering.split(/\s+/);
    var shown = 0;
    var hitConns = new Set();
    allRows.forEach(function (tr) {
      var ok = matches(rowText(tr), terms);
      tr.classList.toggle("filtered-out", !ok);
      if (ok) { shown++; hitConns.add(tr.getAttribute("data-conn") || "other"); }
    });
    connRows.forEach(function (tr) {
      var ok = terms.length === 0 || hitConns.has(tr.getAttribute("data-conn")) || matches(rowText(tr), terms);
      tr.classList.toggle("filtered-out", !ok);
      if (ok) { hitConns.add(tr.getAttribute("data-conn")); }
    });
    sections.forEach(function (s) {
      var id = s.getAttribute("data-conn") || "other";
      s.classList.toggle("filtered-out", terms.length > 0 && !hitConns.has(id));
    });
    pagers.forEach(function (p) {
      p.hidden = terms.length > 0;
      showPage(p, Number(p.getAttribute("data-page")));
    });
    count.textContent = terms.length ? shown + " of " + allRows.length + " packets match" : "";
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
  window.addEventListener("beforeprint", function () {
    printTheme = root.getAttribute("data-theme");
    root.setAttribute("data-theme", "light");
    doc.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () { if (printTheme) { root.setAttribute("data-theme", printTheme); } });

  // ---- keyboard -----------------------------------------------------------------------
  function visibleRows() {
    return allRows.filter(function (tr) { return !tr.classList.contains("paged-out") && !tr.classList.contains("filtered-out"); });
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
    var rows = visibleRows();
    if (!rows.length) { return; }
    ev.preventDefault();
    var i = selected ? rows.indexOf(selected) : -1;
    var next = i < 0 ? rows[0] : rows[Math.max(0, Math.min(rows.length - 1, i + (down ? 1 : -1)))];
    select(Number(next.getAttribute("data-frame")), true);
  });
  if (location.hash && /^#f[0-9]+$/.test(location.hash)) { select(Number(location.hash.slice(2)), true); }
  root.setAttribute("data-ready", "1");
})();
