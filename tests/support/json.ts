/**
 * A response body as loosely typed JSON: tests read fields freely and their
 * assertions check the shape.
 */
// biome-ignore lint/suspicious/noExplicitAny: the assertions that read the body check its shape
export type Json = any;

export function readJson(response: Response): Promise<Json> {
  return response.json();
}
