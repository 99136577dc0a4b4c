// Keeps `hush import`'s memory near its live set. The import's live set is small (~20 MB after
// a full GC: open visits, the pending batch, the 5-minute watermark), but V8 grows the heap
// lazily: with its default heuristics the old generation ran up to ~90 MB of garbage between
// full GCs, for a peak RSS of ~240 MB on the 1M-line bench.
//
// heap-growing-percent=50, a V8 flag read at every GC (so setting it in the running process
// works, unlike --max-old-space-size, fixed when the heap is created): the next full GC comes
// when the old generation is 1.5 × what survived the last one (V8 picks up to 4 × on a large
// machine).
//
// The young generation is left to V8 (it grows to 2 × 16 MB). semi-space-growth-factor=1 used
// to freeze it at the size start-up had left; start-up now leaves it at 16 MB anyway (measured:
// 16,384 K at the end of 1M-line imports with and without the flag; 363–366 scavenges, peak RSS
// 162–167 MB either way, load 4.5–6), and when start-up left it at 1–2 MB, a batch of hits
// outlived several scavenges and the runs split in two (386 vs 786 scavenges, same 1M lines).
// Fixed sizes on 300k lines (--min/--max-semi-space-size, load ~12): 1 MB 861 scavenges, 7.55 s
// CPU, 151 MB; 4 MB 196, 6.54 s, 163 MB; 8 MB 93, 6.30 s, 179 MB; 16 MB 45, 6.47 s, 202 MB.
// A flag given on the node command line (node --heap-growing-percent=0 …) is left as given.
import v8 from 'node:v8';

export const IMPORT_HEAP_FLAGS: Readonly<Record<string, number>> = {
  'heap-growing-percent': 50,
};

/** Sets the import's heap flags that the command line did not set; returns the ones set. */
export function tuneHeapForImport(execArgv: readonly string[] = process.execArgv): string[] {
  const set: string[] = [];
  for (const [flag, value] of Object.entries(IMPORT_HEAP_FLAGS)) {
    const spellings = [flag, flag.replace(/-/g, '_')].map((f) => `--${f}`);
    if (execArgv.some((a) => spellings.some((s) => a === s || a.startsWith(`${s}=`)))) continue;
    v8.setFlagsFromString(`--${flag}=${value}`);
    set.push(flag);
  }
  return set;
}
