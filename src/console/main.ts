/**
 * The console's browser entry, bundled by src/protocol/http/console-routes.ts
 * (Bun.build) and type-checked with the DOM by src/console/tsconfig.json.
 */
import { h, render } from "preact";
import { apiBaseUrl } from "./server-address.ts";
import { App } from "./ui/app.ts";

const root = document.getElementById("console");
if (root) {
  root.textContent = "";
  render(h(App, { baseUrl: apiBaseUrl(location.search, location.origin) }), root);
}
