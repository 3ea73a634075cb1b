// Bundles the map into src/limes/web/static/: app.js (esbuild), app.css (Leaflet's + ours),
// index.html. Everything the page needs is in that folder: no CDN, no request outside the server.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "limes", "web", "static");
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, "src", "main.ts")],
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["chrome110", "firefox110", "safari16"],
  format: "iife",
  outfile: join(out, "app.js"),
  legalComments: "eof",
  logLevel: "warning",
});

const css = [
  readFileSync(join(here, "node_modules", "leaflet", "dist", "leaflet.css"), "utf8"),
  readFileSync(join(here, "src", "styles.css"), "utf8"),
].join("\n");
writeFileSync(join(out, "app.css"), css);
copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
// Leaflet's stylesheet draws the layer control's icon from images/ next to it: ship them.
mkdirSync(join(out, "images"), { recursive: true });
for (const name of ["layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png"])
  copyFileSync(join(here, "node_modules", "leaflet", "dist", "images", name), join(out, "images", name));
