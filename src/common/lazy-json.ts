/** The parsed value of a JSON text, parsed on the first call only (or never, if nobody asks). */
export function lazyJson(text: string): () => unknown {
  let parsed: { value: unknown } | undefined;
  return () => (parsed ??= { value: JSON.parse(text) as unknown }).value;
}
