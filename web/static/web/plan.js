/* Guichet — porteur pages, progressive enhancement only (everything works without it).
 * 1. Financing plan: totals, gap and rates computed as you type, announced politely.
 * 2. Communes: a filter box over the checkbox list. */
(function () {
  "use strict";

  function cents(value) {
    var v = (value || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (!/^\d+(\.\d{0,2})?$/.test(v)) return null;
    return Math.round(parseFloat(v) * 100);
  }
  function euros(c) {
    return (c / 100).toLocaleString("fr-FR", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " €";
  }
  function percent(x) {
    return (x * 100).toLocaleString("fr-FR", { maximumFractionDigits: 2 }) + " %";
  }
  function field(row, suffix) {
    return row.querySelector('[name$="-' + suffix + '"]');
  }
  function deleted(row) {
    var box = field(row, "DELETE");
    return box && box.checked;
  }

  var form = document.querySelector("[data-plan]");
  if (form) {
    var data = document.getElementById("schemes-data");
    var schemes = data ? JSON.parse(data.textContent) : {};
    var live = document.getElementById("plan-live");
    var box = form.querySelector("[data-live-totals]");
    var timer = null;
    if (box) box.hidden = false;

    var compute = function () {
      var eligible = 0, total = 0, pub = 0, own = 0, notes = [];
      form.querySelectorAll("[data-expense-row]").forEach(function (row) {
        if (deleted(row)) return;
        var amount = cents(field(row, "amount").value);
        var ok = field(row, "eligible");
        if (amount !== null && ok && ok.checked) eligible += amount;
      });
      var rows = [];
      form.querySelectorAll("[data-resource-row]").forEach(function (row) {
        var source = field(row, "source").value;
        var amount = cents(field(row, "amount").value);
        var out = row.querySelector("[data-rate]");
        if (deleted(row) || amount === null || !source) {
          if (out) out.textContent = "—";
          return;
        }
        total += amount;
        if (source.indexOf("scheme:") === 0 || source === "other_public") pub += amount;
        if (source === "self") own += amount;
        rows.push({ row: row, source: source, amount: amount, out: out });
      });
      rows.forEach(function (r) {
        if (!r.out) return;
        if (!eligible) { r.out.textContent = "—"; return; }
        var rate = r.amount / eligible;
        var text = percent(rate);
        if (r.source.indexOf("scheme:") === 0) {
          var code = r.source.slice(7), s = schemes[code], name = (s && s.label) || code;
          if (s && (rate < parseFloat(s.min) - 1e-9 || rate > parseFloat(s.max) + 1e-9)) {
            text += " (hors bornes " + percent(parseFloat(s.min)) + " – " + percent(parseFloat(s.max)) + ")";
            notes.push(name + " : taux de " + percent(rate) + " hors des bornes du dispositif.");
          }
          if (s && s.min_amount && r.amount < Math.round(parseFloat(s.min_amount) * 100)) {
            notes.push(name + " : aide inférieure au minimum de " + euros(Math.round(parseFloat(s.min_amount) * 100)) + ".");
          }
        }
        r.out.textContent = text;
      });
      var lines = [
        "Dépense éligible : " + euros(eligible) + ".",
        "Ressources : " + euros(total) + (total === eligible ? " — plan équilibré." :
          " — écart de " + euros(Math.abs(total - eligible)) + (total > eligible ? " en trop." : " à trouver.")),
        "Aides publiques : " + euros(pub) + (eligible ? " (" + percent(pub / eligible) + ")" : "") +
          " ; autofinancement : " + euros(own) + "."
      ].concat(notes);
      live.textContent = "";
      lines.forEach(function (t) {
        var p = document.createElement("p");
        p.textContent = t;
        live.appendChild(p);
      });
    };
    var later = function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(compute, 500);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    compute();
  }

  var search = document.querySelector("[data-commune-search]");
  if (search) {
    search.hidden = false;
    var input = search.querySelector("input[type=search]");
    var count = document.getElementById("commune-filtre-compte");
    var items = document.querySelectorAll("[data-commune]");
    var groups = document.querySelectorAll("details.epci-group");
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
      var shown = 0;
      items.forEach(function (li) {
        var name = li.getAttribute("data-commune").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
        var match = !q || name.indexOf(q) !== -1;
        li.hidden = !match;
        if (match) shown += 1;
      });
      groups.forEach(function (g) {
        var any = g.querySelector("[data-commune]:not([hidden])");
        g.hidden = !any;
        if (q && any) g.open = true;
      });
      count.textContent = q ? shown + " commune" + (shown > 1 ? "s" : "") + " correspondante" + (shown > 1 ? "s" : "") + "." : "";
    });
  }
})();
