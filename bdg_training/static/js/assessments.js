// Assessments: countdown to the deadline, confirmation on "Nộp bài", question form by kind.
// The server enforces the deadline; the countdown only informs. No inline script (CSP).
(function () {
  "use strict";

  var countdown = document.getElementById("countdown");
  if (countdown && countdown.getAttribute("data-deadline")) {
    var deadline = new Date(countdown.getAttribute("data-deadline")).getTime();
    var tick = function () {
      var left = Math.floor((deadline - Date.now()) / 1000);
      if (isNaN(left)) { return; }
      if (left <= 0) {
        countdown.textContent = "Đã hết giờ";
        countdown.className = "ms-2 badge text-bg-danger";
        return;
      }
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      countdown.textContent = "Còn " + (h ? h + " giờ " : "") + m + " phút " + (s < 10 ? "0" : "") + s + " giây";
      countdown.className = "ms-2 badge " + (left < 120 ? "text-bg-warning" : "text-bg-secondary");
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-confirm-click]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm-click"))) {
      event.preventDefault();
    }
  });

  var kind = document.getElementById("kind");
  var sections = document.querySelectorAll("fieldset[data-kinds]");
  if (kind && sections.length) {
    var update = function () {
      sections.forEach(function (section) {
        section.hidden = section.getAttribute("data-kinds").split(" ").indexOf(kind.value) < 0;
      });
    };
    kind.addEventListener("change", update);
    update();
  }
})();
