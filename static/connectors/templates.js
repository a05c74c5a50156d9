/* The generic provider's template inputs: only the parameters of the chosen provider template
   are shown (the select's data-template-parameters maps each template to its inputs). Without
   JavaScript every input shows, each with help saying which template uses it; saving applies
   only the chosen template's. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_template");
    if (!select || !select.hasAttribute("data-template-parameters")) { return; }
    var parameters = JSON.parse(select.getAttribute("data-template-parameters"));
    var all = [];
    Object.keys(parameters).forEach(function (key) {
      parameters[key].forEach(function (name) { if (all.indexOf(name) < 0) { all.push(name); } });
    });

    function show() {
      var wanted = parameters[select.value] || [];
      all.forEach(function (name) {
        var input = document.getElementById("id_" + name);
        var row = input && input.closest(".form-row");
        if (row) { row.hidden = wanted.indexOf(name) < 0; }
      });
    }

    select.addEventListener("change", show);
    show();
  });
})();
