/**
 * Streamed items in writes of bounded size: a generator's burst goes in as few calls as possible,
 * but never one call so large that the server stalls on it (Lua's `unpack` has a limit too).
 */

/** Items in one write at most. */
export const ITEMS_PER_CALL = 1_000;
/** About how many bytes of item JSON one write carries before the rest go in the next. */
export const ITEM_BYTES_PER_CALL = 4 * 1024 * 1024;

/** The items' JSON (`null` for `undefined`, as `JSON.stringify` leaves it), in runs of at most {@link ITEMS_PER_CALL} items or about {@link ITEM_BYTES_PER_CALL}. */
export function itemChunks(items: readonly unknown[], encode: (item: unknown) => string = plainJson): string[][] {
  const out: string[][] = [];
  let run: string[] = [];
  let bytes = 0;
  for (const item of items) {
    const json = encode(item);
    run.push(json);
    bytes += json.length;
    if (run.length >= ITEMS_PER_CALL || bytes >= ITEM_BYTES_PER_CALL) {
      out.push(run);
      run = [];
      bytes = 0;
    }
  }
  if (run.length > 0) out.push(run);
  return out;
}

function plainJson(item: unknown): string {
  return JSON.stringify(item) ?? 'null';
}
