// "Use my location" on the new project's form: fills the place's coordinates from the
// browser's location (WGS-84, as the form asks), once, when the admin presses the button.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("use-my-place");
  if (!button || !("geolocation" in navigator)) return;
  button.addEventListener("click", () => {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (position) => {
        document.getElementById("latitude").value = position.coords.latitude.toFixed(6);
        document.getElementById("longitude").value = position.coords.longitude.toFixed(6);
        button.disabled = false;
      },
      () => { button.disabled = false; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
});
