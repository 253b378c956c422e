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

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-scenario-live]");
    if (form) setup(form);
  });
})();
