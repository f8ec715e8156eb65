/* Lists with check boxes: a box in the column's heading ([data-select-all="name"]) ticks or
   unticks every box of that name in its form. Without JavaScript the box stays hidden and each
   row is ticked on its own. */
(function () {
  "use strict";

  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var form = all.form || all.closest("form");
    if (!form) {
      return;
    }
    var boxes = form.querySelectorAll('input[type="checkbox"][name="' + all.getAttribute("data-select-all") + '"]');
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
})();
