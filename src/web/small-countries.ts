// Where the map draws a dot for each country too small for the 1:110m shapes (Singapore, Hong
// Kong, Malta…): longitude and latitude in degrees, the bounding-box middle of its largest
// polygon in world-atlas' 1:50m file (Natural Earth, public domain). Made by smallCountryCentres()
// in world-map.ts; test/web-dashboard.test.ts checks that it still matches the data.
export const SMALL_COUNTRIES: Record<string, [number, number]> = {
  AD: [1.6, 42.5], AG: [-61.8, 17.1], AI: [-63.1, 18.2], AS: [-170.7, -14.3], AW: [-70, 12.5],
  AX: [20, 60.2], BB: [-59.5, 13.2], BH: [50.5, 26], BL: [-62.8, 17.9], BM: [-64.8, 32.3],
  CK: [-159.8, -21.2], CV: [-23.6, 15.1], CW: [-69, 12.2], DM: [-61.4, 15.4], FM: [158.2, 6.9],
  FO: [-6.9, 62.1], GD: [-61.7, 12.1], GG: [-2.6, 49.5], GS: [-36.9, -54.4], GU: [144.8, 13.4],
  HK: [114.1, 22.4], HM: [73.5, -53.1], IM: [-4.6, 54.2], IO: [72.4, -7.3], JE: [-2.1, 49.2],
  KI: [-157.4, 1.9], KM: [43.4, -11.6], KN: [-62.7, 17.3], KY: [-81.3, 19.3], LC: [-61, 13.9],
  LI: [9.5, 47.2], MC: [7.4, 43.8], MF: [-63.1, 18.1], MH: [171.2, 7.1], MO: [113.5, 22.2],
  MP: [145.8, 15.2], MS: [-62.2, 16.7], MT: [14.5, 35.9], MU: [57.6, -20.3], MV: [73.5, 4.2],
  NF: [167.9, -29.1], NR: [166.9, -0.5], NU: [-169.9, -19.1], PF: [-149.4, -17.7],
  PM: [-56.3, 46.9], PN: [-128.3, -24.4], PW: [134.6, 7.5], SC: [55.5, -4.7], SG: [103.8, 1.4],
  SH: [-5.7, -16], SM: [12.5, 43.9], ST: [6.6, 0.2], SX: [-63.1, 18], TC: [-71.7, 21.8],
  TO: [-175.2, -21.2], VA: [12.4, 41.9], VC: [-61.2, 13.3], VG: [-64.4, 18.5], VI: [-64.7, 17.7],
  WF: [-178.1, -14.3], WS: [-172.5, -13.6],
};
