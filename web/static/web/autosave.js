/* The intake wizard's autosave (issue 12): a form with data-autosave="<url>" posts itself
   there as the porteur types (debounced) or leaves a field, and says « Brouillon
   enregistré à HH:MM » in its aria-live status. Without JavaScript nothing changes. */
(function () {
  "use strict";
  var DELAY = 1200;

  function csrf(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setup(form) {
    var url = form.getAttribute("data-autosave");
    var status = document.querySelector("[data-autosave-status]");
    var timer = null, sent = "", busy = false, again = false;

    function say(text, failed) {
      if (!status) return;
      status.textContent = text;
      status.classList.toggle("autosave-error", !!failed);
    }

    function body() {
      var data = new FormData(form);
      data.delete("action");
      return data;
    }

    function signature(data) {
      var parts = [];
      data.forEach(function (value, key) { parts.push(key + "=" + value); });
      return parts.join("&");
    }

    function send() {
      timer = null;
      var data = body(), sig = signature(data);
      if (sig === sent) return;
      if (busy) { again = true; return; }
      busy = true;
      fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf(form), "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (json) { return { ok: response.ok, json: json }; });
      }).then(function (r) {
        if (r.ok) sent = sig;
        say(r.json.message || "", !r.ok);
      }).catch(function () {
        say("Brouillon non enregistré : connexion impossible. Utilisez « Enregistrer le brouillon ».", true);
      }).then(function () {
        busy = false;
        if (again) { again = false; schedule(); }
      });
    }

    function schedule() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(send, DELAY);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("focusout", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(send, 50);
    });
    sent = signature(body());
  }

  document.querySelectorAll("form[data-autosave]").forEach(setup);
})();
