/* Test Connection without a page reload: posts the form as it is (saved or not), shows progress,
   refuses double clicks, and puts the one-sentence result next to the button. Without
   JavaScript the button submits the form to the same URL and the result comes back as a message. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector(".pc-test-button");
    var output = document.getElementById("pc-test-result");
    if (!button || !output || !window.fetch) { return; }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (button.disabled) { return; }
      var form = button.form;
      var data = new FormData(form);
      data.delete("_generate");
      button.disabled = true;
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
        output.className = "pc-result " + (result.passed ? "pc-result--passed" : "pc-result--failed");
        output.textContent = result.sentence;
      }).catch(function (error) {
        output.className = "pc-result pc-result--failed";
        output.textContent = "The test could not run (" + error.message + "): reload the page and try again.";
      }).finally(function () {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        button.textContent = "Test Connection";
      });
    });
  });
})();
