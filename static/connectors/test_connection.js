/* Test Connection without a page reload: posts the form as it is (saved or not), shows progress,
   refuses double clicks, and puts the one-sentence result next to the button. Without
   JavaScript the button submits the form to the same URL and the result comes back as a message. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector(".pc-test-button");
    var output = document.getElementById("pc-test-result");
    if (!button || !output || !window.fetch) { return; }
    var busy = false;

    // The outcome word, the step and time, then the sentence; text only, never markup from the
    // server.
    function show(passed, outcome, meta, sentence) {
      output.className = "pc-result " + (passed ? "pc-result--passed" : "pc-result--failed");
      output.textContent = "";
      var head = document.createElement("strong");
      head.className = "pc-result-outcome";
      head.textContent = outcome;
      output.appendChild(head);
      if (meta) {
        var details = document.createElement("span");
        details.className = "pc-result-meta";
        details.textContent = meta;
        output.appendChild(details);
      }
      var text = document.createElement("div");
      text.className = "pc-result-sentence";
      text.textContent = sentence;
      output.appendChild(text);
    }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
      if (busy) { return; }
      var form = button.form;
      var data = new FormData(form);
      data.delete("_generate");
      busy = true;
      button.setAttribute("aria-disabled", "true");
      button.setAttribute("aria-busy", "true");
      button.textContent = "Testing…";
      output.className = "pc-result";
      output.textContent = "Testing the connection…";
      fetch(button.getAttribute("data-url"), {
        method: "POST",
        body: data,
        headers: { "Accept": "application/json", "X-Requested-With": "XMLHttpRequest" },
        credentials: "same-origin"
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(function (result) {
        show(result.passed, result.passed ? "Passed" : "Failed",
             "Step: " + result.step + " · " + result.elapsed_ms + " ms" + (result.status ? " · HTTP " + result.status : ""),
             result.sentence);
      }).catch(function (error) {
        show(false, "Failed", "", "The test could not run (" + error.message + "): reload the page and try again.");
      }).finally(function () {
        busy = false;
        button.removeAttribute("aria-disabled");
        button.removeAttribute("aria-busy");
        button.textContent = "Test Connection";
      });
    });
  });
})();
