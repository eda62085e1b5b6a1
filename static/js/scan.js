// Scan a datalogger's QR code or bar code with the phone camera, where the browser can
// (BarcodeDetector); elsewhere the button stays hidden and the SN is typed.
(function () {
  const button = document.querySelector("[data-scan-button]");
  const input = document.querySelector("[data-scan-target]");
  const video = document.querySelector("[data-scan-video]");
  if (!button || !input || !video || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const detector = new BarcodeDetector();
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.hidden = false;
    video.srcObject = stream;
    await video.play();
    const tick = async () => {
      const codes = await detector.detect(video).catch(() => []);
      const sn = codes.map((c) => (c.rawValue.match(/\d{10}/) || [])[0]).find(Boolean);
      if (sn) {
        input.value = sn;
        stream.getTracks().forEach((t) => t.stop());
        video.hidden = true;
        return;
      }
      requestAnimationFrame(tick);
    };
    tick();
  });
})();
