// On every page: the worker that keeps the card for offline use (it empties its cache when
// the person signs out, so that a shared phone keeps nobody's card).
"use strict";
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}
