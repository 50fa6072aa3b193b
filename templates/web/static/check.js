// The check page, as the officer types: the form is sent (POST, never in the address) a moment
// after the last keystroke, and the server's answer replaces the result. Without this script the
// form is an ordinary form. The answer is HTML the server made with every draft text escaped.
(function () {
  "use strict";
  var form = document.getElementById("check-form");
  var result = document.getElementById("result");
  var announce = document.getElementById("announce");
  if (!form || !result || !window.fetch || !window.FormData) { return; }
  var timer = null;
  var inflight = null;
  var sent = 0;

  function check() {
    var data = new FormData(form);
    var mine = ++sent;
    if (inflight) { inflight.abort(); }
    inflight = window.AbortController ? new AbortController() : null;
    fetch(form.getAttribute("action"), {
      method: "POST", body: new URLSearchParams(data), credentials: "same-origin",
      headers: { "X-Govpost-Fragment": "1" }, signal: inflight ? inflight.signal : undefined
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      if (mine !== sent) { return; }
      result.innerHTML = html;
      result.setAttribute("data-checked", String(mine));
      var words = result.querySelector("#outcome-status");
      if (announce && words) { announce.textContent = words.textContent.replace(/\s+/g, " ").trim(); }
    }).catch(function () { /* aborted by a newer check, or offline: the button still works */ });
  }

  function soon() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(check, 300);
  }

  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (timer) { clearTimeout(timer); }
    check();
  });
}());
