// The portal's only script: behaviour that used to sit in inline handlers, which the
// Content-Security-Policy (script-src without 'unsafe-inline') no longer runs.
document.addEventListener("DOMContentLoaded", function () {
  var languageSelect = document.getElementById("language-select");
  if (languageSelect) {
    languageSelect.addEventListener("change", function () {
      languageSelect.form.submit();
    });
  }
});
