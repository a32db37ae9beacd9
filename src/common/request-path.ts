/** A request URL without its query string (it may carry tokens): what logs and path checks use. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
