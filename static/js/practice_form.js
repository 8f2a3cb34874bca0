// The duplicate hint: while an officer types the title, show practices that look the same.
(function () {
  "use strict";
  var hint = document.getElementById("similar-hint");
  var title = document.getElementById("id_title");
  var summary = document.getElementById("id_summary");
  if (!hint || !title) { return; }
  var timer = null;

  function render(results) {
    hint.textContent = "";
    if (!results.length) { return; }
    var box = document.createElement("div");
    box.className = "notice similar";
    box.id = "similar-practices";
    box.setAttribute("role", "status");
    var label = document.createElement("p");
    label.textContent = hint.dataset.label;
    box.appendChild(label);
    var list = document.createElement("ul");
    results.forEach(function (result) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = result.url;
      link.textContent = result.title;
      item.appendChild(link);
      item.appendChild(document.createTextNode(" " + result.city));
      list.appendChild(item);
    });
    box.appendChild(list);
    hint.appendChild(box);
  }

  function ask() {
    var query = new URLSearchParams({
      title: title.value,
      text: summary ? summary.value : "",
      exclude: hint.dataset.exclude || ""
    });
    fetch(hint.dataset.url + "?" + query.toString(), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) { render(data.results); })
      .catch(function () { /* the hint is a help, not a requirement */ });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 400);
  }
  title.addEventListener("input", later);
  if (summary) { summary.addEventListener("change", later); }
})();
