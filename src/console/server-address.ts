/**
 * The API server the console talks to: `?server=<base URL>` when the page
 * names one (the console served from another origin, see README "Web
 * console"), else the server that served the page.
 */
export function apiBaseUrl(search: string, pageOrigin: string): string {
  const named = new URLSearchParams(search).get("server");
  if (!named) return pageOrigin;
  const url = new URL(named, pageOrigin);
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`console: ?server= must be an http(s) URL, got '${named}'`);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
