// The scanner: reads volunteer cards' QR codes from the camera and records each scan with the
// node. The browser's BarcodeDetector reads the codes where it has one; elsewhere (Chromium on
// Linux, most in-app browsers) the node's own WebAssembly reader does, fed grey pixels of each
// frame. A scan is posted at once; offline, or when the network fails it, the scan is kept on
// this device with the time it was made, and uploaded as a batch once the network is back. Each
// scan carries an id drawn here, so a scan sent twice counts once. The same code seen again
// within a minute (a card held up for a while) is not scanned again.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("scanner");
  if (!root) return;
  const { tenant, project } = root.dataset;
  const [checkedIn, checkedOut, duplicate, refused, kept] = root.dataset.states.split("|");
  const english = document.documentElement.lang === "en";
  const api = `/api/v1/tenants/${tenant}/projects/${project}/scans`;
  const storeKey = `zhiyuan-scans-${tenant}-${project}`;
  const video = document.getElementById("viewfinder");
  const start = document.getElementById("start-camera");
  const status = document.getElementById("scan-status");
  const recent = document.getElementById("recent");
  const offlineNote = document.getElementById("offline");
  const waitingCount = document.getElementById("waiting-count");
  const BATCH = 200;
  const SEEN_FOR_MS = 60000;
  const seen = new Map();

  const waiting = () => JSON.parse(localStorage.getItem(storeKey) || "[]");
  const keep = (scans) => {
    localStorage.setItem(storeKey, JSON.stringify(scans));
    waitingCount.textContent = String(scans.length);
  };

  const show = (text, isRefusal) => {
    status.textContent = text;
    const item = document.createElement("li");
    item.textContent = text;
    if (isRefusal) item.className = "refused";
    recent.prepend(item);
    while (recent.children.length > 20) recent.lastChild.remove();
  };

  // A scan's answer from the node, in the page's language.
  const describe = (view) => {
    const who = `${view.volunteer.name} (${view.volunteer.volunteer_number})`;
    switch (view.outcome) {
      case "checked_in": return `${checkedIn}: ${who}`;
      case "checked_out": {
        const minutes = view.credited_minutes ?? 0;
        return `${checkedOut}: ${who} · ${Math.floor(minutes / 60)}h${minutes % 60}m`;
      }
      default: return `${duplicate}: ${who}`;
    }
  };
  const problemOf = (problem) => {
    if (!problem) return "";
    if (problem.message) return english ? problem.message.en : problem.message["zh-CN"];
    return english ? problem.message_en : problem.message_zh;
  };

  const keepForLater = (scan) => {
    keep([...waiting(), scan]);
    show(`${kept}: ${scan.scanned_at.slice(11, 19)}`, false);
  };

  const post = (url, body) =>
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });

  async function record(code) {
    const scan = { scan_id: crypto.randomUUID(), code, scanned_at: new Date().toISOString() };
    if (!navigator.onLine) return keepForLater(scan);
    let response;
    try {
      response = await post(api, { scan_id: scan.scan_id, code });
    } catch {
      return keepForLater(scan);
    }
    const body = await response.json().catch(() => null);
    if (response.ok && body) show(describe(body), false);
    else show(`${refused}: ${problemOf(body)}`, true);
  }

  let uploading = false;
  async function upload() {
    if (uploading || !navigator.onLine) return;
    uploading = true;
    try {
      for (let scans = waiting(); scans.length > 0; scans = waiting()) {
        const batch = scans.slice(0, BATCH);
        const response = await post(`${api}/batch`, { scans: batch });
        const body = await response.json().catch(() => null);
        const sent = new Set(batch.map((scan) => scan.scan_id));
        if (response.ok && body) {
          for (const result of body.results) {
            if (result.outcome === "refused") show(`${refused}: ${problemOf(result.problem)}`, true);
            else show(describe(result.scan), false);
          }
        } else {
          show(`${refused}: ${problemOf(body)}`, true);
          // Refused as a whole for what the batch is (never for one scan): sending it again
          // would be refused again. Anything else (the session ended, the node is busy) keeps
          // the scans for the next try.
          if (response.status !== 422 && response.status !== 400) break;
        }
        keep(waiting().filter((scan) => !sent.has(scan.scan_id)));
      }
    } catch {
      // Still no network: the scans stay kept until the next time it comes back.
    } finally {
      uploading = false;
    }
  }

  const network = () => {
    offlineNote.hidden = navigator.onLine;
    if (navigator.onLine) upload();
  };
  window.addEventListener("online", network);
  window.addEventListener("offline", network);
  keep(waiting());
  network();

  // The reader: BarcodeDetector where it reads QR codes, else the node's WebAssembly reader.
  async function makeReader() {
    if ("BarcodeDetector" in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) {
          const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
          return async (source) => {
            const codes = await detector.detect(source);
            return codes.length > 0 ? codes[0].rawValue : null;
          };
        }
      } catch {
        // Fall through to the WebAssembly reader.
      }
    }
    const { instance } = await WebAssembly.instantiateStreaming(fetch("/assets/qr-reader.wasm"), {});
    const { memory, frame, read, text } = instance.exports;
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const decoder = new TextDecoder();
    return async (source) => {
      // A QR code on a phone's screen is large in the frame: 640 pixels across is plenty, and
      // keeps each read to milliseconds.
      const scale = Math.min(1, 640 / Math.max(source.videoWidth, source.videoHeight));
      const width = Math.round(source.videoWidth * scale);
      const height = Math.round(source.videoHeight * scale);
      if (!width || !height) return null;
      canvas.width = width;
      canvas.height = height;
      context.drawImage(source, 0, 0, width, height);
      const rgba = context.getImageData(0, 0, width, height).data;
      const at = frame(width, height);
      if (!at) return null;
      const grey = new Uint8Array(memory.buffer, at, width * height);
      for (let i = 0, j = 0; i < grey.length; i += 1, j += 4) {
        grey[i] = (rgba[j] * 77 + rgba[j + 1] * 150 + rgba[j + 2] * 29) >> 8;
      }
      const length = read();
      if (!length) return null;
      return decoder.decode(new Uint8Array(memory.buffer, text(), length));
    };
  }

  async function scanFrames(readCode) {
    if (video.readyState >= 2) {
      const code = await readCode(video).catch(() => null);
      const now = Date.now();
      for (const [old, at] of seen) if (now - at > SEEN_FOR_MS) seen.delete(old);
      if (code && !seen.has(code)) {
        seen.set(code, now);
        await record(code);
      }
    }
    setTimeout(() => scanFrames(readCode), 200);
  }

  // Loaded with the page, so that the site's worker keeps the reader for a scanner opened offline.
  const readerReady = makeReader().catch(() => null);

  start.addEventListener("click", async () => {
    start.disabled = true;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" },
        audio: false,
      });
      video.srcObject = stream;
      await video.play();
      const readCode = await readerReady;
      if (!readCode) throw new Error("no QR reader");
      root.dataset.reading = "yes";
      scanFrames(readCode);
    } catch {
      start.disabled = false;
      show(root.dataset.cameraFailed, true);
    }
  });
});
