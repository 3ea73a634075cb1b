// Positions for people: MGRS (what a patrol navigates by) and lat/lon text, computed in the page
// so the pointer's position needs no request. The same conversion as the server's (the `mgrs`
// package); the browser tests hold the two to each other and to UTM from pyproj.

const A = 6378137; // WGS84 semi-major axis, m
const E2 = 0.00669438; // first eccentricity squared
const K0 = 0.9996; // UTM scale on the central meridian
const BANDS = "CDEFGHJKLMNPQRSTUVWX";
const COLUMNS = ["STUVWXYZ", "ABCDEFGH", "JKLMNPQR"]; // by zone mod 3
const ROWS = "ABCDEFGHJKLMNPQRSTUV";

function zoneOf(lon: number, lat: number): number {
  let zone = Math.floor((lon + 180) / 6) + 1;
  if (lon >= 180) zone = 60;
  if (lat >= 56 && lat < 64 && lon >= 3 && lon < 12) zone = 32; // south-west Norway
  if (lat >= 72 && lat < 84) {
    // Svalbard
    if (lon >= 0 && lon < 9) zone = 31;
    else if (lon >= 9 && lon < 21) zone = 33;
    else if (lon >= 21 && lon < 33) zone = 35;
    else if (lon >= 33 && lon < 42) zone = 37;
  }
  return zone;
}

/** UTM zone, easting and northing (m) of a WGS84 position (Snyder's series, mm-level). */
export function utm(lon: number, lat: number): { zone: number; easting: number; northing: number } {
  const zone = zoneOf(lon, lat);
  const phi = (lat * Math.PI) / 180;
  const lam = (lon * Math.PI) / 180;
  const lam0 = (((zone - 1) * 6 - 180 + 3) * Math.PI) / 180;
  const ep2 = E2 / (1 - E2);
  const s = Math.sin(phi);
  const c = Math.cos(phi);
  const n = A / Math.sqrt(1 - E2 * s * s);
  const t = Math.tan(phi) ** 2;
  const cc = ep2 * c * c;
  const a = c * (lam - lam0);
  const e4 = E2 * E2;
  const e6 = e4 * E2;
  const m =
    A *
    ((1 - E2 / 4 - (3 * e4) / 64 - (5 * e6) / 256) * phi -
      ((3 * E2) / 8 + (3 * e4) / 32 + (45 * e6) / 1024) * Math.sin(2 * phi) +
      ((15 * e4) / 256 + (45 * e6) / 1024) * Math.sin(4 * phi) -
      ((35 * e6) / 3072) * Math.sin(6 * phi));
  const easting =
    K0 * n * (a + ((1 - t + cc) * a ** 3) / 6 + ((5 - 18 * t + t * t + 72 * cc - 58 * ep2) * a ** 5) / 120) + 500000;
  let northing =
    K0 *
    (m +
      n *
        Math.tan(phi) *
        ((a * a) / 2 + ((5 - t + 9 * cc + 4 * cc * cc) * a ** 4) / 24 + ((61 - 58 * t + t * t + 600 * cc - 330 * ep2) * a ** 6) / 720));
  if (lat < 0) northing += 10000000;
  return { zone, easting, northing };
}

/** The MGRS reference at 1 m, e.g. "37SFT9394664144" ("" outside 80° S – 84° N). */
export function mgrs(lon: number, lat: number): string {
  if (!(lat >= -80 && lat < 84 && lon >= -180 && lon <= 180)) return "";
  const { zone, easting, northing } = utm(lon, lat);
  const band = BANDS[Math.min(19, Math.floor((lat + 80) / 8))]!;
  const col = COLUMNS[zone % 3]![Math.floor(easting / 100000) - 1]!;
  const row = ROWS[(Math.floor(northing / 100000) + (zone % 2 === 0 ? 5 : 0)) % 20]!;
  const e = String(Math.floor(easting % 100000)).padStart(5, "0");
  const nn = String(Math.floor(northing % 100000)).padStart(5, "0");
  return `${String(zone).padStart(2, "0")}${band}${col}${row}${e}${nn}`;
}

/** MGRS spaced for reading aloud: "37S FT 93946 64144". */
export function mgrsSpaced(code: string): string {
  const m = /^(\d\d[A-Z])([A-Z]{2})(\d{5})(\d{5})$/.exec(code);
  return m ? `${m[1]} ${m[2]} ${m[3]} ${m[4]}` : code;
}

/** Lat/lon as people write it: "34.01234° N 41.10345° E". */
export function latLonText(lon: number, lat: number): string {
  return `${Math.abs(lat).toFixed(5)}° ${lat >= 0 ? "N" : "S"} ${Math.abs(lon).toFixed(5)}° ${lon >= 0 ? "E" : "W"}`;
}
