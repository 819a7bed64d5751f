// The card's code stands for a minute: the page reloads itself shortly before it lapses, so
// that what is shown is always a code the scanner accepts.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const card = document.querySelector(".card[data-refresh-seconds]");
  if (!card) return;
  const seconds = Number(card.dataset.refreshSeconds);
  if (!Number.isFinite(seconds) || seconds <= 0) return;
  setTimeout(() => {
    if (navigator.onLine !== false) window.location.reload();
  }, seconds * 1000);
});
