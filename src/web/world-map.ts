// The countries panel as a world map: inline SVG drawn on the server (no script, nothing for the
// CSP to allow), each country with visitors a link that filters the dashboard like its table
// row. It shades only the rows the Stats API returned (visit:country, after k-anonymity), so a
// country folded into "(other)" looks the same as one with no visitors.
//
// Geometry: world-atlas (ISC; Natural Earth 1:110m, public domain), decoded with topojson-client
// (ISC), ISO 3166-1 numeric ids mapped to alpha-2 by i18n-iso-countries (MIT). Projected with the
// Natural Earth projection (the polynomial of Šavrič et al. 2011, as in d3-geo's (ISC)
// geoNaturalEarth1) onto a 960-unit-wide grid, rounded to whole units and written as relative
// path commands. Measured: the SVG is 40 KB with a few countries shaded and 75 KB with all 235
// (links and tooltips); projecting takes 40–60 ms once per process, then a render only groups
// the cached path strings (1–2 ms with every country shaded). Antarctica is left out: no one
// reads it, and it would take a fifth of the height. Countries too small for 1:110m (Singapore,
// Hong Kong, Malta…: 61 of them) are a dot (small-countries.ts), drawn only when they have
// visitors.
import { createRequire } from 'node:module';
import { feature } from 'topojson-client';
import type { Topology, GeometryCollection } from 'topojson-specification';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import isoCountries from 'i18n-iso-countries';
import { SMALL_COUNTRIES } from './small-countries.ts';

export const MAP_WIDTH = 960;
const require = createRequire(import.meta.url);
type Countries = Topology<{ countries: GeometryCollection<{ name: string }> }>;
/** The 1:110m geometry: read from world-atlas on first use on Node; a Worker has no files and bundles it (useMapData). */
let topology: () => Countries = () => require('world-atlas/countries-110m.json') as Countries;

/** Gives the map its geometry as a value (the edge imports world-atlas's JSON as a module). */
export function useMapData(data: Countries): void {
  topology = () => data;
  shapes = null;
}

/** The shading steps (CSS classes s1..s5); a country's step is by the square root of its share of the top country. */
export const STEPS = 5;

// Features without a numeric id in world-atlas: Kosovo has a user-assigned alpha-2 code that
// IP databases use; Northern Cyprus and Somaliland have none and stay unlinked land.
const BY_NAME: Record<string, string> = { Kosovo: 'XK' };

interface Shapes { height: number; paths: Map<string, string>; dots: Map<string, string>; unlinked: string }
const DOT_R = 3; // map units (960 wide): a dot stays visible on a phone
let shapes: Shapes | null = null;

/** The Natural Earth projection (as d3-geo's geoNaturalEarth1Raw), λ and φ in radians. */
function naturalEarth(lambda: number, phi: number): [number, number] {
  const p2 = phi * phi, p4 = p2 * p2;
  return [
    lambda * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4))),
    phi * (1.007226 + p2 * (0.015085 + p4 * (-0.044475 + 0.028874 * p2 - 0.005916 * p4))),
  ];
}

type Ring = number[][];

/** The part of a ring (degrees) with lon ≥ `min` (side 1) or lon ≤ `max` (side -1): Sutherland–Hodgman on one meridian. */
function clip(ring: Ring, at: number, side: 1 | -1): Ring {
  const out: Ring = [];
  const inside = (p: number[]) => side * (p[0] - at) >= 0;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i], b = ring[(i + 1) % ring.length];
    if (inside(a)) out.push(a);
    if (inside(a) !== inside(b)) out.push([at, a[1] + ((at - a[0]) / (b[0] - a[0])) * (b[1] - a[1])]);
  }
  return out;
}

/**
 * Rings that cross ±180° (Fiji, Chukotka) would be drawn straight across the map: unwrap their
 * longitudes, then keep the parts of the ring and of its copies 360° east and west that fall
 * inside [-180°, 180°].
 */
function splitAtAntimeridian(ring: Ring): Ring[] {
  if (!ring.some((p, i) => i > 0 && Math.abs(p[0] - ring[i - 1][0]) > 180)) return [ring];
  let shift = 0;
  const unwrapped = ring.map((p, i) => {
    if (i > 0) {
      const d = p[0] - ring[i - 1][0];
      if (d > 180) shift -= 360;
      else if (d < -180) shift += 360;
    }
    return [p[0] + shift, p[1]];
  });
  return [-360, 0, 360]
    .map((k) => clip(clip(unwrapped.map(([x, y]) => [x + k, y]), -180, 1), 180, -1))
    .filter((r) => r.length >= 3);
}

function load(): Shapes {
  const topo = topology();
  const fc = feature(topo, topo.objects.countries);
  const RAD = Math.PI / 180;
  const xMax = naturalEarth(Math.PI, 0)[0];
  const scale = MAP_WIDTH / (2 * xMax);
  const features = (fc.features as Array<Feature<Polygon | MultiPolygon, { name: string }>>).filter((f) => f.id !== '010' && f.geometry);
  // First pass: the projected rings, and the top and bottom of the map.
  let top = Infinity, bottom = -Infinity;
  const projected = features.map((f) => {
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    const rings = polys.flat().flatMap(splitAtAntimeridian).map((ring) => ring.map(([lon, lat]) => {
      const [x, y] = naturalEarth(lon * RAD, lat * RAD);
      const px = (x + xMax) * scale, py = -y * scale;
      top = Math.min(top, py);
      bottom = Math.max(bottom, py);
      return [px, py] as const;
    }));
    const code = f.id !== undefined ? isoCountries.numericToAlpha2(String(f.id)) : BY_NAME[f.properties.name];
    return { code, rings };
  });
  const paths = new Map<string, string>();
  let unlinked = '';
  for (const { code, rings } of projected) {
    let d = '';
    for (const ring of rings) {
      // Whole units, each point relative to the last one kept; repeated points are dropped, and
      // a ring that rounds to fewer than 3 points (an islet) with them.
      let px = Math.round(ring[0][0]), py = Math.round(ring[0][1] - top);
      let part = `M${px} ${py}`, kept = 1;
      for (let i = 1; i < ring.length; i++) {
        const x = Math.round(ring[i][0]), y = Math.round(ring[i][1] - top);
        if (x === px && y === py) continue;
        part += `${kept === 1 ? 'l' : ' '}${x - px} ${y - py}`.replace(/ -/g, '-');
        px = x; py = y; kept++;
      }
      if (kept >= 3) d += `${part}z`;
    }
    if (!d) continue;
    if (code) paths.set(code, (paths.get(code) ?? '') + d);
    else unlinked += d;
  }
  const dots = new Map<string, string>();
  for (const [code, [lon, lat]] of Object.entries(SMALL_COUNTRIES)) {
    if (paths.has(code)) continue;
    const [x, y] = naturalEarth(lon * RAD, lat * RAD);
    const cx = Math.round((x + xMax) * scale), cy = Math.round(-y * scale - top);
    dots.set(code, `M${cx - DOT_R} ${cy}a${DOT_R} ${DOT_R} 0 1 0 ${2 * DOT_R} 0a${DOT_R} ${DOT_R} 0 1 0-${2 * DOT_R} 0z`);
  }
  return { height: Math.ceil(bottom - top), paths, dots, unlinked };
}

/**
 * Where the dots of the countries missing from 1:110m go: the bounding-box middle of each one's
 * largest 1:50m polygon, in degrees to 0.1°. This is how small-countries.ts was made (and a test
 * checks it still is): reading the 1:50m file at run time would cost ~100 ms per process.
 */
export function smallCountryCentres(): Record<string, [number, number]> {
  const have = new Set(mapShapes().paths.keys());
  const out: Record<string, [number, number]> = {};
  const topo50 = require('world-atlas/countries-50m.json') as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  for (const f of feature(topo50, topo50.objects.countries).features as Array<Feature<Polygon | MultiPolygon, { name: string }>>) {
    const code = f.id !== undefined ? isoCountries.numericToAlpha2(String(f.id)) : undefined;
    if (!code || code === 'AQ' || have.has(code) || !f.geometry) continue;
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    let best: { area: number; lon: number; lat: number } | null = null;
    for (const poly of polys) {
      const lons = poly[0].map((p) => p[0]), lats = poly[0].map((p) => p[1]);
      const [w, e, s0, n] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
      const area = (e - w) * (n - s0);
      if (!best || area > best.area) best = { area, lon: (w + e) / 2, lat: (s0 + n) / 2 };
    }
    if (best) out[code] = [Math.round(best.lon * 10) / 10, Math.round(best.lat * 10) / 10];
  }
  return out;
}

/** The cached shapes: alpha-2 code → SVG path data (outlines, and dots for the small countries). */
export function mapShapes(): Shapes {
  return (shapes ??= load());
}

export interface MapOptions {
  /** The accessible name of the map. */
  title: string;
  /** Where a country's link goes. */
  href: (code: string) => string;
  /** A country's tooltip ("🇩🇪 Germany: 12 visitors"). */
  tip: (code: string, visitors: number) => string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The map's SVG markup for rows of [alpha-2 code, visitors] — exactly the rows the report
 * returned; anything that is not a code on the map ("(other)", "(none)") shades nothing.
 */
export function worldMap(rows: Array<[string, number]>, o: MapOptions): string {
  const s = mapShapes();
  const shape = (code: string) => s.paths.get(code) ?? s.dots.get(code);
  const shown = rows.filter(([code, v]) => v > 0 && shape(code));
  const max = Math.max(1, ...shown.map(([, v]) => v));
  const shaded = new Set(shown.map(([code]) => code));
  let land = s.unlinked;
  for (const [code, d] of s.paths) if (!shaded.has(code)) land += d;
  // Links are left out of the tab order: the countries table is the keyboard's (and screen
  // reader's) way to the same filters; the map is a picture of it.
  const links = shown.map(([code, v]) => {
    const step = Math.max(1, Math.ceil(STEPS * Math.sqrt(v / max)));
    return `<a href="${esc(o.href(code))}" tabindex="-1" data-country="${esc(code)}"><title>${esc(o.tip(code, v))}</title><path class="s${step}" d="${shape(code)}"/></a>`;
  }).join('');
  return `<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${MAP_WIDTH} ${s.height}" role="img" aria-label="${esc(o.title)}">`
    + `<title>${esc(o.title)}</title><path class="land" d="${land}"/>${links}</svg>`;
}
