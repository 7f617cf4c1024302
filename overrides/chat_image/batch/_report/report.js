// The report page: facets, search and cards over the items embedded as JSON above.
// Every text from the batch output goes into the page with textContent, never as markup.
(function () {
  "use strict";
  var PAGE = 60;
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var compare = data.mode === "compare";
  var items = data.items;
  var root = document.documentElement;
  root.style.setProperty("--thumb", data.thumb_px + "px");

  var FACETS = compare
    ? [["change", "change"], ["field", "changed field"], ["status", "status"],
       ["finish_reason", "finish reason"], ["error_type", "error type"], ["model", "model"]]
    : [["status", "status"], ["finish_reason", "finish reason"],
       ["error_type", "error type"], ["model", "model"]];
  var CHANGE_ORDER = ["same", "changed", "fixed", "broke", "added", "removed"];

  function main(item) {
    // The run a card is filed under: the new one, or the old one for a removed item.
    var runs = item.runs;
    return runs[runs.length - 1] || runs[0];
  }

  function values(item, facet) {
    var run = main(item);
    switch (facet) {
      case "change": return [item.change];
      case "field": return item.fields || [];
      case "status": return [run.status];
      case "finish_reason": return run.finish_reason == null ? [] : [run.finish_reason];
      case "error_type": return run.error ? [run.error.type] : [];
      case "model": return run.model == null ? [] : [run.model];
    }
    return [];
  }

  function haystack(item) {
    var parts = [item.id];
    item.runs.forEach(function (run) {
      if (!run) return;
      if (run.content != null) parts.push(run.content);
      if (run.parsed != null) parts.push(JSON.stringify(run.parsed));
      if (run.error) parts.push(run.error.type + " " + run.error.message);
    });
    return parts.join("\n").toLowerCase();
  }

  items.forEach(function (item) {
    item.hay = haystack(item);
    item.fv = {};
    FACETS.forEach(function (f) { item.fv[f[0]] = values(item, f[0]); });
  });

  // ---- facet controls: every value seen, each with its count in its text ----
  var selected = {};
  var buttons = {};
  var nav = document.getElementById("facets");
  FACETS.forEach(function (f) {
    var name = f[0];
    var totals = {};
    items.forEach(function (item) {
      item.fv[name].forEach(function (v) { totals[v] = (totals[v] || 0) + 1; });
    });
    var names = Object.keys(totals);
    if (!names.length) return;
    names.sort(function (a, b) {
      if (name === "change") return CHANGE_ORDER.indexOf(a) - CHANGE_ORDER.indexOf(b);
      return totals[b] - totals[a] || (a < b ? -1 : a > b ? 1 : 0);
    });
    selected[name] = new Set();
    buttons[name] = {};
    var box = document.createElement("section");
    box.className = "facet";
    box.setAttribute("data-facet-group", name);
    var h = document.createElement("h2");
    h.textContent = f[1];
    box.appendChild(h);
    names.forEach(function (value) {
      var b = document.createElement("button");
      b.type = "button";
      b.setAttribute("data-facet", name);
      b.setAttribute("data-value", value);
      b.setAttribute("aria-pressed", "false");
      var label = document.createElement("span");
      label.className = "label";
      label.textContent = value;
      var count = document.createElement("span");
      count.className = "count";
      b.appendChild(label);
      b.appendChild(document.createTextNode(" "));
      b.appendChild(count);
      b.addEventListener("click", function () {
        var set = selected[name];
        if (set.has(value)) set.delete(value); else set.add(value);
        b.setAttribute("aria-pressed", set.has(value) ? "true" : "false");
        update();
      });
      buttons[name][value] = { button: b, count: count };
      box.appendChild(b);
    });
    nav.appendChild(box);
  });
  var active = Object.keys(selected);

  // ---- filtering ----
  var search = document.getElementById("search");
  var matching = [];

  function terms() {
    return search.value.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function failing(item) {
    // The facets whose selection this item is outside of (at most two are needed).
    var out = [];
    for (var i = 0; i < active.length && out.length < 2; i++) {
      var set = selected[active[i]];
      if (!set.size) continue;
      var vs = item.fv[active[i]];
      var hit = false;
      for (var j = 0; j < vs.length; j++) if (set.has(vs[j])) { hit = true; break; }
      if (!hit) out.push(active[i]);
    }
    return out;
  }

  function update() {
    var words = terms();
    var counts = {};
    active.forEach(function (name) { counts[name] = {}; });
    matching = [];
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      var found = true;
      for (var w = 0; w < words.length; w++) {
        if (item.hay.indexOf(words[w]) < 0) { found = false; break; }
      }
      if (!found) continue;
      var out = failing(item);
      // A facet's counts say what clicking its value would show: the other filters apply.
      active.forEach(function (name) {
        if (out.length === 0 || (out.length === 1 && out[0] === name)) {
          item.fv[name].forEach(function (v) { counts[name][v] = (counts[name][v] || 0) + 1; });
        }
      });
      if (!out.length) matching.push(item);
    }
    active.forEach(function (name) {
      Object.keys(buttons[name]).forEach(function (value) {
        var n = counts[name][value] || 0;
        var entry = buttons[name][value];
        entry.count.textContent = String(n);
        entry.button.classList.toggle("empty", n === 0);
      });
    });
    document.getElementById("matching").textContent = String(matching.length);
    render();
  }

  // ---- cards, rendered a page at a time as they come into view ----
  var cards = document.getElementById("cards");
  var sentinel = document.createElement("div");
  sentinel.className = "sentinel";
  var rendered = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = String(text);
    return node;
  }

  function thumbs(item) {
    var box = el("div", "thumbs");
    item.thumbs.forEach(function (t) {
      if (t.src) {
        var img = document.createElement("img");
        img.decoding = "async";
        img.width = t.w;
        img.height = t.h;
        img.alt = item.id;
        img.src = t.src;
        box.appendChild(img);
      } else {
        var note = el("div", "nothumb", t.text);
        note.setAttribute("data-thumb", t.why);
        box.appendChild(note);
      }
    });
    return box;
  }

  function scalar(value) {
    if (value === null) return "null";
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function parsedTable(parsed, changed) {
    var table = el("table", "parsed");
    var keys = Object.keys(parsed);
    keys.forEach(function (key) {
      var tr = document.createElement("tr");
      if (changed && changed.indexOf(key) >= 0) tr.className = "changed";
      tr.appendChild(el("th", null, key));
      tr.appendChild(el("td", null, scalar(parsed[key])));
      table.appendChild(tr);
    });
    return table;
  }

  // Words of two answers marked where they differ (a longest common subsequence of words);
  // null when the answers are too long for that to be quick.
  function wordDiff(before, after) {
    var a = before.split(/(\s+)/), b = after.split(/(\s+)/);
    var n = a.length, m = b.length;
    if (n * m > 250000) return null;
    var table = new Uint16Array((n + 1) * (m + 1));
    for (var i = n - 1; i >= 0; i--) {
      for (var j = m - 1; j >= 0; j--) {
        table[i * (m + 1) + j] = a[i] === b[j]
          ? table[(i + 1) * (m + 1) + j + 1] + 1
          : Math.max(table[(i + 1) * (m + 1) + j], table[i * (m + 1) + j + 1]);
      }
    }
    var oldParts = [], newParts = [];
    i = 0; j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[i] === b[j]) {
        oldParts.push([a[i++], false]); newParts.push([b[j++], false]);
      } else if (j < m && (i === n || table[i * (m + 1) + j + 1] >= table[(i + 1) * (m + 1) + j])) {
        newParts.push([b[j++], true]);
      } else {
        oldParts.push([a[i++], true]);
      }
    }
    return [oldParts, newParts];
  }

  function marked(parts, tag) {
    var box = el("div", "answer");
    parts.forEach(function (part) {
      if (part[1] && part[0].trim()) box.appendChild(el(tag, null, part[0]));
      else box.appendChild(document.createTextNode(part[0]));
    });
    return box;
  }

  function meta(run) {
    var bits = [];
    if (run.finish_reason != null) bits.push(run.finish_reason);
    if (run.model != null) bits.push(run.model);
    if (run.tokens) bits.push(run.tokens[0] + " in / " + run.tokens[1] + " out tokens");
    if (run.latency_s != null) bits.push(run.latency_s + " s");
    if (run.attempts != null) bits.push(run.attempts + (run.attempts === 1 ? " attempt" : " attempts"));
    return el("p", "meta", bits.join(" \u00b7 "));
  }

  function side(run, label, item) {
    var box = el("section", "side");
    if (label) {
      box.setAttribute("data-side", label);
      box.appendChild(el("h4", null, label));
    }
    if (!run) {
      box.appendChild(el("p", "absent", label === "old" ? "not in the old run" : "not in the new run"));
      return box;
    }
    if (run.parsed != null && typeof run.parsed === "object" && !Array.isArray(run.parsed)) {
      box.appendChild(parsedTable(run.parsed, item.fields));
    } else if (run.content != null && item.diff) {
      box.appendChild(marked(item.diff[label === "old" ? 0 : 1], label === "old" ? "del" : "ins"));
    } else if (run.content != null) {
      box.appendChild(el("div", "answer", run.content));
    } else if (!run.error) {
      box.appendChild(el("p", "absent", "no answer text"));
    }
    if (run.error) {
      var p = el("p", "error");
      p.appendChild(el("span", "etype", run.error.type));
      var code = run.error.status_code != null ? " (" + run.error.status_code + ")" : "";
      p.appendChild(document.createTextNode(code + ": " + run.error.message));
      box.appendChild(p);
    }
    box.appendChild(meta(run));
    return box;
  }

  function card(item) {
    var run = main(item);
    var node = el("article", "card");
    node.setAttribute("data-id", item.id);
    node.setAttribute("data-status", run.status);
    if (compare) node.setAttribute("data-change", item.change);
    node.appendChild(thumbs(item));
    var body = el("div", "body");
    body.appendChild(el("h3", "id", item.id));
    var badges = el("div", "badges");
    if (compare) badges.appendChild(el("span", "badge badge-" + item.change, item.change));
    badges.appendChild(el("span", "badge badge-" + run.status, run.status));
    body.appendChild(badges);
    if (compare) {
      var before = item.runs[0], after = item.runs[1];
      if (item.diff === undefined) {
        item.diff = item.change === "changed" && before && after &&
          typeof before.content === "string" && typeof after.content === "string" &&
          before.parsed == null && after.parsed == null
          ? wordDiff(before.content, after.content) : null;
      }
      var sides = el("div", "sides");
      sides.appendChild(side(item.runs[0], "old", item));
      sides.appendChild(side(item.runs[1], "new", item));
      body.appendChild(sides);
    } else {
      body.appendChild(side(run, null, item));
    }
    if (run.prompt != null) body.appendChild(el("p", "prompt", "prompt: " + run.prompt));
    node.appendChild(body);
    return node;
  }

  function more() {
    var end = Math.min(matching.length, rendered + PAGE);
    var frag = document.createDocumentFragment();
    for (; rendered < end; rendered++) frag.appendChild(card(matching[rendered]));
    cards.insertBefore(frag, sentinel);
  }

  function render() {
    cards.textContent = "";
    rendered = 0;
    cards.appendChild(sentinel);
    if (!matching.length) {
      cards.insertBefore(el("p", "nomatch", "No item matches."), sentinel);
      return;
    }
    more();
    fill();
  }

  // More cards whenever the end of those rendered comes within a screen and a half of view.
  function fill() {
    while (rendered < matching.length &&
           sentinel.getBoundingClientRect().top < window.innerHeight * 2.5) more();
  }
  var pending = false;
  function onScroll() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; fill(); });
  }
  window.addEventListener("scroll", onScroll, { passive: true });
  window.addEventListener("resize", onScroll);
  cards.appendChild(sentinel);

  search.addEventListener("input", update);
  document.getElementById("clear").addEventListener("click", function () {
    search.value = "";
    active.forEach(function (name) {
      selected[name].clear();
      Object.keys(buttons[name]).forEach(function (v) {
        buttons[name][v].button.setAttribute("aria-pressed", "false");
      });
    });
    update();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== search) {
      event.preventDefault();
      search.focus();
    }
  });
  update();
  document.body.setAttribute("data-ready", "true");
})();
