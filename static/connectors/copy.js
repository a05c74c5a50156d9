/* Copy buttons: `<button class="pc-copy-button" data-copy-target="ID">` copies the text of the
   element with that id (the callback URL, a new API key). Without the clipboard API (a page on
   plain http) the text is selected for Ctrl+C instead. */
(function () {
  "use strict";
  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copyButtons() {
    document.querySelectorAll(".pc-copy-button").forEach(function (button) {
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy-target"));
        if (!target) { return; }
        var text = target.textContent;
        var done = function () {
          button.textContent = gettext("Copied");
          setTimeout(function () { button.textContent = gettext("Copy"); }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { selectText(target); });
        } else {
          selectText(target);
          try { document.execCommand("copy"); done(); } catch (e) { /* selected for manual copy */ }
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", copyButtons);
})();
