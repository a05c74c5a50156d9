/* Test Connection without a page reload: posts the form as it is (saved or not), shows progress,
   refuses double clicks, puts the result next to the button and updates the health badge.
   Without JavaScript the button submits the form to the same URL and the result comes back as
   a message. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector(".pc-test-button");
    var output = document.getElementById("pc-test-result");
    if (!button || !output || !window.fetch) { return; }
    var busy = false;
    var idleLabel = button.textContent;

    // The outcome ("Failed at the token step"), time and status, then the sentence; text only,
    // never markup from the server. Spaces between the parts, so a screen reader reads them apart.
    function show(passed, headline, meta, sentence, link) {
      output.className = "pc-result " + (passed ? "pc-result--passed" : "pc-result--failed");
      output.textContent = "";
      var head = document.createElement("strong");
      head.className = "pc-result-outcome";
      head.textContent = headline;
      output.appendChild(head);
      if (meta) {
        output.appendChild(document.createTextNode(" "));
        var details = document.createElement("span");
        details.className = "pc-result-meta";
        details.textContent = "(" + meta + ")";
        output.appendChild(details);
      }
      output.appendChild(document.createTextNode(" "));
      var text = document.createElement("div");
      text.className = "pc-result-sentence";
      text.textContent = sentence;
      if (link) {
        text.appendChild(document.createTextNode(" "));
        var anchor = document.createElement("a");
        anchor.href = link.href;
        anchor.target = "_blank";
        anchor.rel = "noopener";
        anchor.textContent = link.text;
        text.appendChild(anchor);
      }
      output.appendChild(text);
    }

    // The health badge of the saved connection, as the server derived it after the test.
    function updateBadge(health) {
      var holder = document.getElementById("pc-health-badge");
      if (!holder || !health) { return; }
      var badge = document.createElement("span");
      badge.className = "pc-badge pc-badge--" + health.tone;
      badge.setAttribute("data-health", health.code);
      badge.title = health.title;
      badge.textContent = health.text;
      holder.textContent = "";
      holder.appendChild(badge);
    }

    button.addEventListener("click", function (event) {
      event.preventDefault();
      // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
      if (busy) { return; }
      var form = button.form;
      var data = new FormData(form);
      data.delete("_generate");
      data.delete("_save");
      busy = true;
      button.setAttribute("aria-disabled", "true");
      button.setAttribute("aria-busy", "true");
      button.textContent = gettext("Testing…");
      output.className = "pc-result";
      output.textContent = gettext("Testing the connection…");
      fetch(button.getAttribute("data-url"), {
        method: "POST",
        body: data,
        headers: { "Accept": "application/json", "X-Requested-With": "XMLHttpRequest" },
        credentials: "same-origin",
        redirect: "manual"
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) {
          // A login page, a proxy's error page, a redirect: say what happened, not a parse error.
          throw new Error(response.type === "opaqueredirect" ? gettext("redirected") : interpolate(gettext("HTTP %s"), [response.status]));
        }
        return response.json();
      }).then(function (result) {
        var link = result.login_url ? { href: result.login_url, text: gettext("Log in") } : null;
        show(result.passed, result.headline, result.meta, result.message, link);
        updateBadge(result.health);
      }).catch(function (error) {
        show(false, gettext("Not tested"), "", interpolate(gettext("The test could not run (%s): your session may " +
             "have expired. Log in again in a new tab (this form keeps what you typed), then test again."),
             [error.message]), { href: button.getAttribute("data-login-url"), text: gettext("Log in") });
      }).finally(function () {
        busy = false;
        button.removeAttribute("aria-disabled");
        button.removeAttribute("aria-busy");
        button.textContent = idleLabel;
      });
    });
  });
})();
