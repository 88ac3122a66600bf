// Progress of a certificate print job: polls the job's JSON status every second (no inline script: CSP).
(function () {
  var box = document.getElementById("job-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var status = box.getAttribute("data-status");
  var bar = document.getElementById("job-bar");
  var label = document.getElementById("job-status-label");
  var count = document.getElementById("job-count");
  if (status !== "queued" && status !== "running") { return; }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (state) {
        bar.value = state.percent;
        bar.textContent = state.percent + "%";
        label.textContent = state.status_label;
        count.textContent = state.done + "/" + state.total;
        if (state.status === "done" || state.status === "failed") {
          window.location.reload();  // the page then shows the downloads or the error
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
