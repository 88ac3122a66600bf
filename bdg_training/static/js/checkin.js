// Check-in screen: poll the state endpoint, swap the QR code when its 30-second window changes,
// show the live arrivals count and a countdown. No inline script (CSP); no innerHTML.
(function () {
  "use strict";
  var root = document.getElementById("checkin-screen");
  if (!root) { return; }
  var stateUrl = root.getAttribute("data-state-url");
  var period = parseFloat(root.getAttribute("data-period")) || 30;
  var currentWindow = root.getAttribute("data-window");
  var qr = document.getElementById("checkin-qr");
  var message = document.getElementById("checkin-message");
  var hint = document.getElementById("checkin-hint");
  var present = document.getElementById("checkin-present");
  var confirmed = document.getElementById("checkin-confirmed");
  var countdown = document.getElementById("checkin-countdown");
  var offline = document.getElementById("checkin-offline");
  var expiresAt = Date.now() + period * 1000;
  var timer = null;

  function setCountdown() {
    var left = Math.max(0, expiresAt - Date.now()) / 1000;
    var pct = Math.round((left / period) * 100);
    // Width through a class-free property: element.style is allowed by the CSP (not a style attribute in HTML).
    countdown.style.width = pct + "%";
    countdown.parentNode.setAttribute("aria-valuenow", String(Math.round(left)));
  }

  function apply(data) {
    offline.classList.add("d-none");
    present.textContent = String(data.present);
    confirmed.textContent = String(data.confirmed);
    expiresAt = Date.now() + data.expires_in * 1000;
    if (data.qr) {
      if (String(data.window) !== currentWindow || qr.classList.contains("d-none")) {
        qr.src = data.qr;
        currentWindow = String(data.window);
      }
      qr.classList.remove("d-none");
      message.classList.add("visually-hidden");
      hint.textContent = data.message;
    } else {
      qr.classList.add("d-none");
      qr.removeAttribute("src");
      message.textContent = data.message;
      message.classList.remove("visually-hidden");
      hint.textContent = "";
    }
  }

  function poll() {
    fetch(stateUrl, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        apply(data);
        // Poll every 3 s, and right after the code changes.
        schedule(Math.min(3000, Math.max(200, data.expires_in * 1000 + 150)));
      })
      .catch(function () {
        offline.classList.remove("d-none");
        schedule(5000);
      });
  }

  function schedule(ms) {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(poll, ms);
  }

  window.setInterval(setCountdown, 250);
  setCountdown();
  poll();
})();
