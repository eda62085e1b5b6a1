// Scan a datalogger's QR code or bar code with the phone camera: the browser's BarcodeDetector where
// it has one, otherwise the vendored ZXing decoder (Safari, Firefox, Chromium on Linux), loaded only
// when the button is pressed. Typing the SN always works; camera errors are explained in words.
//
// UNVERIFIED: what the stick's QR code holds besides the SN is not public; the SN is taken as the
// first run of ten digits, and the form then validates it like a typed SN.
(function () {
  "use strict";
  const button = document.querySelector("[data-scan-button]");
  const input = document.querySelector("[data-scan-target]");
  const video = document.querySelector("[data-scan-video]");
  const message = document.querySelector("[data-scan-message]");
  if (!button || !input || !video || !message || !navigator.mediaDevices) return;
  button.hidden = false;

  function say(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  function serialIn(text) {
    return ((text || "").match(/\d{10}/) || [])[0];
  }

  function found(text, stop) {
    const sn = serialIn(text);
    if (!sn) {
      say(button.dataset.noSerial);
      return false;
    }
    stop();
    input.value = sn;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    video.hidden = true;
    say(button.dataset.found.replace("%(sn)s", sn));
    return true;
  }

  function explain(error) {
    const name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") return button.dataset.denied;
    if (name === "NotFoundError" || name === "OverconstrainedError") return button.dataset.noCamera;
    return button.dataset.failed;
  }

  function loadZxing() {
    if (window.ZXing) return Promise.resolve(window.ZXing);
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = button.dataset.decoder;
      script.onload = () => resolve(window.ZXing);
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  async function withDetector() {
    const detector = new BarcodeDetector();
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    const stop = () => stream.getTracks().forEach((t) => t.stop());
    video.hidden = false;
    video.srcObject = stream;
    await video.play();
    const tick = async () => {
      const codes = await detector.detect(video).catch(() => []);
      if (codes.some((c) => found(c.rawValue, stop))) return;
      requestAnimationFrame(tick);
    };
    tick();
  }

  async function withZxing() {
    const ZXing = await loadZxing();
    const reader = new ZXing.BrowserMultiFormatReader();
    video.hidden = false;
    await reader.decodeFromConstraints({ video: { facingMode: "environment" } }, video, (result) => {
      if (result) found(result.getText(), () => reader.reset());
    });
  }

  button.addEventListener("click", async () => {
    say(button.dataset.looking);
    try {
      await ("BarcodeDetector" in window ? withDetector() : withZxing());
    } catch (error) {
      video.hidden = true;
      say(explain(error));
    }
  });
})();
