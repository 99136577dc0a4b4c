// A QR code as inline SVG, drawn on the server for the two-factor setup page: an authenticator
// app scans the otpauth:// URI instead of the secret being typed. `qrcode` (MIT) computes the
// modules; the SVG is one <path> of horizontal runs (a typical URI gives 37×37 modules, ~5 KB),
// always black on white with the 4-module quiet zone scanners need, whatever the page's colour
// scheme. No script and no data: image, so the strict CSP has nothing to allow.
import QRCode from 'qrcode';

export const QUIET = 4;

/** The SVG markup of `text` as a QR code (error correction M: 15% of the code may be damaged). */
export function qrSvg(text: string, label: string): string {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  let d = '';
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      if (!modules.get(y, x)) continue;
      let run = 1;
      while (x + run < n && modules.get(y, x + run)) run++;
      d += `M${x + QUIET} ${y + QUIET}h${run}v1h-${run}z`;
      x += run - 1;
    }
  }
  const side = n + 2 * QUIET;
  const esc = label.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  return `<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" role="img" aria-label="${esc}" shape-rendering="crispEdges" data-modules="${n}">`
    + `<rect width="${side}" height="${side}" fill="#fff"/><path fill="#000" d="${d}"/></svg>`;
}
