/* A scenario's page (issue 14): as the agent changes a choice or an amount, the table is
   sent (debounced) and the envelopes, plan rules and treasury figures returned by the
   server replace the old ones; a status line says so to screen readers. Without
   JavaScript, « Enregistrer et recalculer » does the same with a new page. */
(function () {
  "use strict";
  var DELAY = 700;

  function setup(form) {
    var figures = document.getElementById("scenario-figures");
    var status = document.querySelector("[data-scenario-status]");
    var timer = null;
    if (!figures) return;

    function say(text) {
      if (status) status.textContent = text;
    }

    function send() {
      var data = new FormData(form);
      fetch(window.location.href, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Scenario-Live": "1" }
      }).then(function (response) {
        return response.text().then(function (html) {
          figures.innerHTML = html;
          figures.setAttribute("data-updated", String(Date.now()));
          loadTreasury();
          say(response.ok ? "Figures recalculées." : "Choix non enregistré : voyez le message ci-dessus.");
        });
      }).catch(function () {
        say("Le recalcul a échoué : enregistrez avec le bouton.");
      });
    }

    form.addEventListener("change", function () {
      if (timer) window.clearTimeout(timer);
      timer = window.setTimeout(send, DELAY);
    });
  }

  /* The treasury of many porteurs not computed yet comes by a request of its own: the
     page shows its other figures at once, then this section when it is computed. */
  function loadTreasury() {
    var pending = document.querySelector("[data-treasury-src]");
    var status = document.querySelector("[data-scenario-status]");
    if (!pending) return;
    fetch(pending.getAttribute("data-treasury-src"), {
      credentials: "same-origin",
      headers: { "X-Scenario-Live": "1" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.text();
    }).then(function (html) {
      var current = document.querySelector("[data-treasury-src]");
      if (!current) return;
      current.outerHTML = html;
      if (status) status.textContent = "Trésorerie des porteurs calculée.";
    }).catch(function () {
      if (status) status.textContent = "La trésorerie n'a pu être calculée : suivez le lien pour l'afficher.";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-scenario-live]");
    if (form) setup(form);
    loadTreasury();
  });
})();
