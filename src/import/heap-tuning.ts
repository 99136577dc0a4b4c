// Keeps `hush import`'s memory near its live set. The import's live set is small (~20 MB after
// a full GC: open visits, the pending batch, the 5-minute watermark), but V8 grows the heap
// lazily: with its default heuristics the old generation ran up to ~90 MB of garbage between
// full GCs and the young generation to 2 × 16 MB, for a peak RSS of ~240 MB on the 1M-line bench.
//
// Two V8 flags that V8 reads at every GC, so setting them here, in the running process, works
// (unlike --max-old-space-size or --max-semi-space-size, fixed when the heap is created — those
// would take a second process with flags, holding its own ~100 MB while the child imports):
//   heap-growing-percent=50    the next full GC comes when the old generation is 1.5 × what
//                              survived the last one (V8 picks up to 4 × on a large machine)
//   semi-space-growth-factor=1 the young generation stays at the size it has when the import
//                              starts: 2 × 8 MB when start-up has not doubled it already
//                              (timing-dependent: it sometimes has, then this does nothing)
// Measured on the 1M-line bench (bench/import.ts, 2 shared cores, runs interleaved): peak RSS
// 182/203/186 MB tuned vs 285/276 MB with V8's defaults (same code); on 300k lines, CPU seconds
// and peak RSS: defaults 8.1 s 236–245 MB; growing 50 % alone 8.6–9.4 s 190–205 MB; both flags
// 9.2–9.5 s 168–171 MB; growing 30 % 9.2–10.5 s 188 MB; --optimize-for-size 11.7–12.6 s
// 153–165 MB. The cost is more full GCs: ~+10–25 % CPU.
// Leaving the young generation to V8 lost (1M lines, interleaved, load 10–12): peak RSS 178/189
// vs 157/159 MB with the flag, CPU 18.6/19.4 vs 17.3/20.8 s — although start-up now leaves the
// semi-space at 16 MB in both cases (v8.getHeapSpaceStatistics at the end).
// A flag given on the node command line (node --heap-growing-percent=0 …) is left as given.
import v8 from 'node:v8';

export const IMPORT_HEAP_FLAGS: Readonly<Record<string, number>> = {
  'heap-growing-percent': 50,
  'semi-space-growth-factor': 1,
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
