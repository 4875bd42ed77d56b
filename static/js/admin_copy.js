// The admin Account page's Copy button: without JavaScript the link stays selectable in its
// read-only field; with it, one click puts it on the clipboard.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var done = button.parentElement.querySelector(".rk-copy__done");
    if (!field) return;
    button.hidden = false;
    field.addEventListener("focus", function () { field.select(); });
    button.addEventListener("click", function () {
      field.select();
      var said = function () { if (done) done.textContent = button.getAttribute("data-copied"); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(said, function () {
          document.execCommand("copy");
          said();
        });
      } else {
        document.execCommand("copy");
        said();
      }
    });
  });
})();
