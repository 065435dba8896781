// The door: answers come back without leaving the page, and the phone's camera reads QR codes
// where the browser has BarcodeDetector (typing the code always works).
const form = document.getElementById("checkin-form");
const input = document.getElementById("f-ticket");
const answer = document.getElementById("answer");
const scan = document.getElementById("scan");
const video = document.getElementById("viewfinder");
const status = document.getElementById("scan-status");
const unavailable = document.getElementById("scan-unavailable");
let busy = false;

async function submit(code) {
  if (busy) return;
  busy = true;
  const body = new FormData(form);
  if (code) body.set("ticket_code", code);
  try {
    const reply = await fetch(form.action, {method: "POST", body, credentials: "same-origin",
      headers: {"X-Partial": "1", "X-CSRF-Token": body.get("csrf")}});
    if (reply.redirected) { location.href = reply.url; return; }
    answer.innerHTML = await reply.text();
    if (navigator.vibrate) navigator.vibrate(answer.querySelector("[data-answer=ok]") ? 80 : [60, 60, 60]);
  } finally {
    busy = false;
    input.value = "";
    input.focus();
  }
}

form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });

if ("BarcodeDetector" in window && navigator.mediaDevices?.getUserMedia) {
  scan.hidden = false;
  unavailable.hidden = true;
  let stream = null, last = "", lastAt = 0;
  const detector = new BarcodeDetector({formats: ["qr_code"]});
  const stop = () => {
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
    status.textContent = status.dataset.stopped;
  };
  const look = async () => {
    if (!stream) return;
    try {
      const found = await detector.detect(video);
      const code = found[0]?.rawValue?.trim();
      const now = Date.now();
      if (code && (code !== last || now - lastAt > 4000)) {
        last = code; lastAt = now;
        await submit(code);
      }
    } catch (error) { /* a frame that could not be read: try the next one */ }
    requestAnimationFrame(look);
  };
  scan.addEventListener("click", async () => {
    if (stream) { stop(); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}});
    } catch (error) {
      status.textContent = status.dataset.denied;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    status.textContent = status.dataset.scanning;
    look();
  });
}
