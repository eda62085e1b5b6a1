// Behaviour the pages need without inline script (the Content-Security-Policy forbids it).
"use strict";

// A form with data-confirm asks before it is sent.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A link with data-print prints the page (the checklist, with the print stylesheet).
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("[data-print]");
  if (link) {
    event.preventDefault();
    window.print();
  }
});

// A button with data-geolocate fills the form's latitude and longitude with this phone's position.
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("[data-geolocate]");
  if (!button || !navigator.geolocation) {
    return;
  }
  event.preventDefault();
  const form = button.form;
  const status = document.getElementById(button.dataset.geolocate);
  status.textContent = button.dataset.waiting;
  navigator.geolocation.getCurrentPosition(
    (position) => {
      form.elements.latitude.value = position.coords.latitude.toFixed(5);
      form.elements.longitude.value = position.coords.longitude.toFixed(5);
      status.textContent = button.dataset.done.replace("{metres}", Math.round(position.coords.accuracy));
    },
    (error) => { status.textContent = button.dataset.failed + " " + error.message; },
    { enableHighAccuracy: true, timeout: 20000 },
  );
});
