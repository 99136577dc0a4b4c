// Fixed-width records of numbers in one growing Float64Array, with a free list: the live rollups'
// open visits (hundreds of thousands on a busy day, each held for up to 75 minutes) as a handful
// of large arrays instead of ~19 small objects each, which the garbage collector had to copy,
// promote and mark over and over (measured: the collector's threads were the largest cost of
// live rollups on the ingestion bench).
//
// A record is addressed by its offset in `data` (index × width). `data` is replaced when the pool
// grows: read it again after every alloc().

export class RecordPool {
  data: Float64Array;
  /** Offset of the first free record, -1 when none (a free record's first number links the next). */
  private freeHead = -1;
  private top = 0;
  live = 0;

  constructor(readonly width: number, initial = 256) {
    this.data = new Float64Array(width * initial);
  }

  /** A new record's offset (its numbers are whatever was there: the caller sets them). */
  alloc(): number {
    this.live++;
    if (this.freeHead >= 0) {
      const at = this.freeHead;
      this.freeHead = this.data[at];
      return at;
    }
    if (this.top + this.width > this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    const at = this.top;
    this.top += this.width;
    return at;
  }

  release(at: number): void {
    this.live--;
    this.data[at] = this.freeHead;
    this.freeHead = at;
  }

  get bytes(): number {
    return this.data.byteLength;
  }
}
