// The map's legend: what each shape and colour means, drawn with the same colours the layers use.

import * as L from "leaflet";
import { BARRIER_COLOUR, LEVEL_COLOUR, UNIT_STATUS_COLOUR } from "./basemap";
import { h } from "./dom";
import { CLASS_COLOUR } from "./tracks";

const SHAPES: Record<string, string> = { person: "●", vehicle: "■", animal: "▲", unknown: "◆" };

function swatch(colour: string, text: string, mark = "▬"): HTMLElement {
  return h("div", { class: "lg-row" }, h("span", { class: "lg-mark", style: `color:${colour}` }, mark), text);
}

export function legend(): L.Control {
  const Legend = L.Control.extend({
    onAdd: () => {
      const body = h(
        "div",
        { class: "lg-body" },
        h("b", {}, "Tracks"),
        ...Object.entries(SHAPES).map(([cls, mark]) => swatch(CLASS_COLOUR[cls] ?? "#ccc", cls, mark)),
        h("div", { class: "lg-row dim" }, "pale: tentative · faded: coasting · stick: 2 min ahead · ×n group"),
        h("b", {}, "Alerts"),
        h("div", { class: "lg-row" }, h("span", { class: "lg-mark lg-alert" }), "alert (pulses when new, leaves the map when old)"),
        h("b", {}, "Intelligence"),
        h("div", { class: "lg-row" }, h("span", { class: "lg-mark", style: "color:#ffd54f" }, "■"), "accepted report: grade · event · date (click: text, source)"),
        h("b", {}, "Barriers"),
        ...Object.entries(BARRIER_COLOUR).map(([k, c]) => swatch(c, k)),
        h("div", { class: "lg-row dim" }, "solid: built · dashed: building · dotted: planned"),
        h("b", {}, "Units"),
        ...Object.entries(UNIT_STATUS_COLOUR)
          .filter(([k]) => k !== "dispatched")
          .map(([k, c]) => swatch(c, k.replace("_", " "), "■")),
        h("b", {}, "Sector impact"),
        ...Object.entries(LEVEL_COLOUR).map(([k, c]) => swatch(c, k, "■")),
      );
      const toggle = h("button", { class: "lg-toggle", title: "legend" }, "Legend");
      const box = h("div", { id: "legend", class: "leaflet-bar legend collapsed" }, toggle, body);
      toggle.onclick = () => box.classList.toggle("collapsed");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    },
  });
  return new Legend({ position: "bottomleft" });
}
