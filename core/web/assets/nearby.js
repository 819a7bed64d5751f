// "Near me": asks the browser for its place, once, when the visitor presses the button, and
// lists the projects again nearest first. The place goes to the node in the address of that
// one request and is kept nowhere.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("near-me");
  if (!button) return;
  const fallback = () => {
    const url = new URL(window.location.href);
    url.search = "?located=no";
    window.location.assign(url);
  };
  button.addEventListener("click", () => {
    if (!("geolocation" in navigator)) return fallback();
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        const url = new URL(window.location.href);
        url.search = "";
        url.searchParams.set("latitude", position.coords.latitude.toFixed(6));
        url.searchParams.set("longitude", position.coords.longitude.toFixed(6));
        window.location.assign(url);
      },
      fallback,
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 },
    );
  });
});
