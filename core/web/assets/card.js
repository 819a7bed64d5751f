// The card's code stands for a minute: online, the page reloads itself shortly before it
// lapses, so that what is shown is always a code the scanner accepts; offline (the card kept
// by the site's worker), it says once the code has lapsed rather than show one that fails.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const card = document.querySelector(".card[data-refresh-seconds]");
  if (!card) return;
  const expiresAt = Number(card.dataset.expiresAt);
  const lapsed = card.querySelector(".lapsed");
  const check = () => {
    if (Number.isFinite(expiresAt) && Date.now() >= expiresAt && lapsed) {
      lapsed.hidden = false;
      card.classList.add("is-lapsed");
    }
  };
  check();
  setInterval(check, 5000);
  const seconds = Number(card.dataset.refreshSeconds);
  if (!Number.isFinite(seconds) || seconds <= 0) return;
  setTimeout(function reload() {
    if (navigator.onLine === false) {
      setTimeout(reload, 10000);
      return;
    }
    window.location.reload();
  }, seconds * 1000);
});
