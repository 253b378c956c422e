/* The committee grid (web/committee/grid.py, templates/web/committee/grid.html).
   Each row of a block is one member's vote on one item; it is saved on its own with
   fetch (a JSON answer; the CSRF token of its form). Enter saves the row, leaving a changed
   row saves it, Up and Down move between members in a score column. The answer's message
   goes to the row's status cell (role="status": read out by screen readers) and every
   item's validity, as the server's rules computed it, replaces the one shown.
   Without this script each block is an ordinary form. */
(function () {
  "use strict";

  var summary = document.querySelector("[data-summary]");
  var FAILED = "Connexion impossible : rien n'a été enregistré. Réessayez.";

  function fields(row) {
    return Array.prototype.slice.call(row.querySelectorAll("select, input:not([type=hidden])"));
  }

  function snapshot(row) {
    return fields(row).map(function (el) { return el.value; }).join("\u0001");
  }

  function setStatus(el, text, kind) {
    if (!el) { return; }
    el.textContent = text;
    el.classList.toggle("error", kind === "error");
    el.classList.toggle("ok", kind === "ok");
  }

  function showErrors(row, errors) {
    row.querySelectorAll("[data-error]").forEach(function (span) {
      var key = span.getAttribute("data-error");
      var message = errors[key] || (key === "vote" ? errors.member : "") || "";
      var input = row.querySelector('[data-field="' + key + '"]');
      span.textContent = message;
      span.hidden = !message;
      if (!input) { return; }
      if (message) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", span.id);
      } else {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      }
    });
  }

  function updateValidity(data) {
    Object.keys(data.items || {}).forEach(function (id) {
      var box = document.querySelector('[data-validity="' + id + '"]');
      if (box) { box.innerHTML = data.items[id]; }
    });
    if (summary && data.summary) {
      summary.textContent = data.summary;
      summary.classList.toggle("warn", data.invalid_items > 0);
      summary.classList.toggle("ok", !data.invalid_items);
    }
    var count = document.querySelector("[data-present-count]");
    if (count && typeof data.present_count === "number") { count.textContent = String(data.present_count); }
  }

  function post(form, body) {
    var token = form.querySelector("[name=csrfmiddlewaretoken]").value;
    return fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token }
    }).then(function (response) {
      return response.json().catch(function () {
        return { ok: false, message: "Réponse inattendue du serveur (" + response.status + ") : rien n'a été enregistré." };
      });
    }, function () { return { ok: false, message: FAILED }; });
  }

  /* ------------------------------------------------------------ one row: a vote */

  function saveRow(row) {
    var vote = row.querySelector("[data-field=vote]");
    if (!vote || vote.disabled || row.dataset.saving) { return; }
    var form = row.closest("form");
    var status = row.querySelector(".cell-status");
    var body = new FormData();
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    body.append("funding_request", form.querySelector("[name=funding_request]").value);
    body.append("member", row.getAttribute("data-member"));
    row.querySelectorAll("[name]").forEach(function (el) {
      if (el.name !== "member") { body.append(el.name, el.value); }
    });
    var sent = snapshot(row);
    row.dataset.saving = "1";
    setStatus(status, "Enregistrement en cours…", "");
    post(form, body).then(function (data) {
      delete row.dataset.saving;
      if (typeof data.previous === "string") { row.querySelector("[data-previous]").value = data.previous; }
      if (data.ok) { row.dataset.saved = sent; }
      setStatus(status, data.message || FAILED, data.ok ? "ok" : "error");
      showErrors(row, data.errors || {});
      updateValidity(data);
    });
  }

  function changed(row) { return snapshot(row) !== row.dataset.saved; }

  function move(row, field, step) {
    var rows = Array.prototype.slice.call(row.closest("tbody").querySelectorAll("tr[data-row]"));
    for (var i = rows.indexOf(row) + step; i >= 0 && i < rows.length; i += step) {
      var target = rows[i].querySelector('[data-field="' + field + '"]');
      if (target && !target.disabled) { target.focus(); target.select(); return; }
    }
  }

  document.querySelectorAll("form[data-grid=votes]").forEach(function (form) {
    form.querySelectorAll("tr[data-row]").forEach(function (row) { row.dataset.saved = snapshot(row); });
    form.addEventListener("keydown", function (event) {
      var row = event.target.closest && event.target.closest("tr[data-row]");
      if (!row) { return; }
      if (event.key === "Enter") {
        event.preventDefault();
        if (changed(row)) { saveRow(row); }
        else { setStatus(row.querySelector(".cell-status"), "Rien à enregistrer : la ligne n'a pas changé.", ""); }
      } else if ((event.key === "ArrowUp" || event.key === "ArrowDown") && event.target.tagName === "INPUT") {
        event.preventDefault();
        move(row, event.target.getAttribute("data-field"), event.key === "ArrowUp" ? -1 : 1);
      }
    });
    form.addEventListener("focusout", function (event) {
      var row = event.target.closest && event.target.closest("tr[data-row]");
      if (row && !(event.relatedTarget && row.contains(event.relatedTarget)) && changed(row)) {
        saveRow(row);
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      form.querySelectorAll("tr[data-row]").forEach(function (row) { if (changed(row)) { saveRow(row); } });
    });
  });

  /* ------------------------------------------------------------ presence */

  function sits(memberId, present) {
    document.querySelectorAll('tr[data-row][data-member="' + memberId + '"]').forEach(function (row) {
      row.classList.toggle("absent", !present);
      row.querySelectorAll("input, select").forEach(function (el) { el.disabled = !present; });
      var status = row.querySelector(".cell-status");
      if (status && !row.querySelector("[data-previous]").value) { setStatus(status, present ? "" : "Absent", ""); }
    });
  }

  document.querySelectorAll("form[data-grid=presence]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      var box = event.target;
      if (box.name !== "present") { return; }
      var status = document.getElementById(box.id + "-etat");
      var body = new FormData();
      body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      body.append("member", box.value);
      if (box.checked) { body.append("present", box.value); }
      setStatus(status, "Enregistrement en cours…", "");
      post(form, body).then(function (data) {
        if (typeof data.present === "boolean") { box.checked = data.present; }
        if (data.ok) { sits(box.value, data.present); }
        setStatus(status, data.message || FAILED, data.ok ? "ok" : "error");
        updateValidity(data);
      });
    });
  });
})();
