/* Bulk work (issue 12), progressive enhancement: « Tout sélectionner sur cette page »
   ticks or clears the rows of its list (without JavaScript the rows are ticked one by
   one, or « tous les résultats du filtre » is chosen, which needs none). */
(function () {
  document.querySelectorAll("[data-select-all]").forEach(function (all) {
    var group = all.getAttribute("data-select-all");
    var rows = document.querySelectorAll('input[data-select-row="' + group + '"]');
    var wrapper = all.closest("[hidden]");
    if (wrapper) { wrapper.hidden = false; }
    all.addEventListener("change", function () {
      rows.forEach(function (row) { row.checked = all.checked; });
    });
    rows.forEach(function (row) {
      row.addEventListener("change", function () {
        var ticked = Array.prototype.filter.call(rows, function (r) { return r.checked; }).length;
        all.checked = ticked === rows.length;
        all.indeterminate = ticked > 0 && ticked < rows.length;
      });
    });
  });
})();
