// Reading QR codes: from the camera (getUserMedia) or from a photo, with
// the browser's BarcodeDetector where it has one for QR codes, else the
// vendored jsQR (vendor/jsQR.min.js, loaded only then).
"use strict";

let detector = null;
let jsQR = null;

/** decoderName says which decoder reads codes ("BarcodeDetector" or "jsQR"). */
export let decoderName = "";

async function ready() {
  if (detector || jsQR) {
    return;
  }
  if ("BarcodeDetector" in self) {
    try {
      const formats = await self.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        detector = new self.BarcodeDetector({ formats: ["qr_code"] });
        decoderName = "BarcodeDetector";
        return;
      }
    } catch {
      // Fall back to jsQR.
    }
  }
  await import("/static/app/vendor/jsQR.min.js"); // UMD: sets self.jsQR
  jsQR = self.jsQR;
  decoderName = "jsQR";
}

const canvas = document.createElement("canvas");
const ctx = canvas.getContext("2d", { willReadFrequently: true });

/** decode returns the text of a QR code in source (video, image, bitmap), or "". */
async function decode(source, w, h) {
  await ready();
  if (detector) {
    const found = await detector.detect(source);
    return found.length ? found[0].rawValue : "";
  }
  // Large frames are scaled down to 800 px: enough for a code that fills
  // a good part of the picture, and fast on a phone.
  const scale = Math.min(1, 800 / Math.max(w, h));
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(h * scale);
  ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
  const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const code = jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
  return code ? code.data : "";
}

/** decodeFile returns the text of a QR code in an image file, or "". */
export async function decodeFile(file) {
  const bmp = await createImageBitmap(file);
  try {
    return await decode(bmp, bmp.width, bmp.height);
  } finally {
    bmp.close();
  }
}

/**
 * Camera reads codes from the back camera into video, calling onCode with
 * each text it reads until stop.
 */
export class Camera {
  constructor(video) {
    this.video = video;
    this.stream = null;
    this.timer = 0;
  }

  get running() {
    return this.stream !== null;
  }

  /** start opens the camera; it throws when the camera is refused or missing. */
  async start(onCode) {
    if (this.stream) {
      return;
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("no camera");
    }
    await ready();
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: false, video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    this.video.srcObject = this.stream;
    await this.video.play().catch(() => {});
    const tick = async () => {
      if (!this.stream) {
        return;
      }
      const v = this.video;
      let text = "";
      if (v.readyState >= 2 && v.videoWidth > 0) {
        try {
          text = await decode(v, v.videoWidth, v.videoHeight);
        } catch {
          text = "";
        }
      }
      if (text && this.stream) {
        onCode(text);
      }
      if (this.stream) {
        this.timer = setTimeout(tick, 150);
      }
    };
    this.timer = setTimeout(tick, 100);
  }

  /** stop closes the camera. */
  stop() {
    clearTimeout(this.timer);
    if (this.stream) {
      for (const tr of this.stream.getTracks()) {
        tr.stop();
      }
    }
    this.stream = null;
    this.video.srcObject = null;
  }
}
