// Behaviour the pages need without inline script (the Content-Security-Policy forbids it).
"use strict";

// htmx (16 kB compressed) is fetched once the page has loaded, and only by a page that uses it: on a
// weak line it would share the bandwidth with the stylesheets and hold the first paint back. A click
// before then does what the page's HTML does without htmx.
const HTMX_USERS = "[hx-get], [hx-post], [hx-put], [hx-patch], [hx-delete]";

// body[data-htmx-state] says where it stands ("none": not needed here, "loaded"): tests wait on it.
(() => {
  const source = document.body.dataset.htmx;
  if (!source || !document.querySelector(HTMX_USERS)) {
    document.body.dataset.htmxState = "none";
    return;
  }
  const start = () => {
    const script = document.createElement("script");
    script.src = source;
    script.addEventListener("load", () => { document.body.dataset.htmxState = "loaded"; });
    document.head.append(script);
  };
  if (document.readyState === "complete") {
    start();
  } else {
    window.addEventListener("load", start);
  }
})();

// A first visit gets the stylesheets inline (body[data-styles]: one round trip fewer before the first
// paint on a weak line). Once the page has loaded they are fetched into the browser's cache, and the
// cookie tells the portal that the next pages may link them.
(() => {
  const { styles, stylesheets } = document.body.dataset;
  if (!styles) return;
  const keep = () => Promise.all(
    stylesheets.split(" ").map((url) => fetch(url).then((r) => {
      if (!r.ok) throw new Error(url);
      return r.blob();
    })),
  ).then(() => {
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = `styles=${styles}; path=/; max-age=31536000; SameSite=Lax${secure}`;
  }).catch(() => {});  // inline again next time
  if (document.readyState === "complete") {
    keep();
  } else {
    window.addEventListener("load", keep);
  }
})();

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

// A region refreshed by htmx (data-connection names its status line) says at once when a refresh
// fails: "connection lost", with the age of the values it still shows growing every second, and
// says when the connection is back. The age counts from what the server said (data-age-s, seconds
// old when rendered) plus the time since it arrived: the phone's clock may be wrong.
const connections = {};

function connectionOf(elt) {
  const region = elt && elt.closest && elt.closest("[data-connection]");
  const status = region && document.getElementById(region.dataset.connection);
  if (!status) {
    return null;
  }
  const id = region.dataset.connection;
  connections[id] = connections[id] || { status: status, receivedAt: Date.now(), timer: null };
  connections[id].region = region;
  return connections[id];
}

function shortAge(seconds) {
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

function showLost(connection) {
  const aged = connection.region.querySelector("[data-age-s]");
  const base = aged ? Number(aged.dataset.ageS) : 0;
  const age = base + Math.round((Date.now() - connection.receivedAt) / 1000);
  connection.status.textContent = connection.status.dataset.lost.replace("{age}", shortAge(age));
  connection.status.hidden = false;
  connection.status.classList.add("lost");
  connection.region.classList.add("connection-lost");
}

function connectionFailed(event) {
  const connection = connectionOf(event.detail.elt);
  if (connection && !connection.timer) {
    showLost(connection);
    connection.timer = window.setInterval(() => showLost(connection), 1000);
  }
}

document.addEventListener("htmx:sendError", connectionFailed);
document.addEventListener("htmx:responseError", connectionFailed);
// Before the swap: an outerHTML swap detaches the element, whose later events reach no listener.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.isError) {
    return;
  }
  const connection = connectionOf(event.detail.elt);
  if (!connection) {
    return;
  }
  connection.receivedAt = Date.now();
  if (connection.timer) {
    window.clearInterval(connection.timer);
    connection.timer = null;
    connection.status.textContent = connection.status.dataset.back;
    connection.status.classList.remove("lost");
  }
});
