// A small ZIP reader (PKWARE APPNOTE 6.3.x): the end-of-central-directory record (and its ZIP64
// form), the central directory, and each entry's data stored (method 0) or deflated (method 8,
// through node:zlib's inflateRaw). Enough for the archives `hush import-plausible` reads: a
// Plausible export is written by Zstream with stored entries and data descriptors (sizes only in
// the central directory), and a re-zipped one is usually deflated.
//
// Nothing is trusted before it is checked against the file and the caps: at most `maxEntries`
// entries; an entry is read only when its declared size is within `maxEntrySize`, the entries
// read add up to at most `maxTotalSize`, and a deflated entry does not claim to expand more than
// `maxRatio` times; inflating stops at the declared size (a bomb that lies about its size fails
// there, having allocated no more than it declared), and the CRC-32 must match.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';

export class ZipError extends Error {}

export interface ZipLimits {
  maxEntries: number;
  maxEntrySize: number;
  maxTotalSize: number;
  maxRatio: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 1000,
  maxEntrySize: 256 * 1024 * 1024,
  maxTotalSize: 1024 * 1024 * 1024,
  maxRatio: 200,
};

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  csize: number;
  size: number;
  offset: number;
}

const EOCD = 0x06054b50, EOCD64 = 0x06064b50, LOC64 = 0x07064b50, CEN = 0x02014b50, LOC = 0x04034b50;
const MB = (n: number) => `${Math.round(n / 1048576)} MB`;

export class ZipReader {
  readonly entries: ZipEntry[] = [];
  private readonly fd: number;
  private readonly fileSize: number;
  private cdStart = 0;
  private readTotal = 0;

  private constructor(private readonly file: string, private readonly limits: ZipLimits) {
    try {
      this.fd = openSync(file, 'r');
    } catch (e) {
      throw new ZipError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    this.fileSize = fstatSync(this.fd).size;
  }

  /** Opens a ZIP file and reads its central directory; throws ZipError for anything else. */
  static open(file: string, limits: Partial<ZipLimits> = {}): ZipReader {
    const z = new ZipReader(file, { ...DEFAULT_ZIP_LIMITS, ...limits });
    try {
      z.readDirectory();
      return z;
    } catch (e) {
      z.close();
      throw e;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private bytes(pos: number, len: number): Buffer {
    if (pos < 0 || len < 0 || pos + len > this.fileSize) throw new ZipError(`${this.file}: not a valid ZIP file (a record points past the end of the file)`);
    const b = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, b, got, len - got, pos + got);
      if (n === 0) throw new ZipError(`${this.file}: the file ended early`);
      got += n;
    }
    return b;
  }

  private readDirectory(): void {
    const notZip = () => new ZipError(`${this.file}: not a ZIP file (no end-of-central-directory record); expected the ZIP that Plausible's "Export" gives`);
    if (this.fileSize < 22) throw notZip();
    // The record is in the last 22 bytes plus a comment of up to 65,535 bytes.
    const tailLen = Math.min(this.fileSize, 22 + 0xffff);
    const tailPos = this.fileSize - tailLen;
    const tail = this.bytes(tailPos, tailLen);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) { at = i; break; }
    }
    if (at < 0) throw notZip();
    let count = tail.readUInt16LE(at + 10);
    let cdSize = tail.readUInt32LE(at + 12);
    let cdOffset = tail.readUInt32LE(at + 16);
    if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0) {
      if (count !== 0xffff) throw new ZipError(`${this.file}: a multi-part (spanned) ZIP is not supported`);
    }
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      // ZIP64: the locator sits just before the record and points at the 64-bit record.
      const locPos = tailPos + at - 20;
      const loc = this.bytes(locPos, 20);
      if (loc.readUInt32LE(0) !== LOC64) throw new ZipError(`${this.file}: not a valid ZIP file (ZIP64 locator missing)`);
      const recPos = Number(loc.readBigUInt64LE(8));
      const rec = this.bytes(recPos, 56);
      if (rec.readUInt32LE(0) !== EOCD64) throw new ZipError(`${this.file}: not a valid ZIP file (ZIP64 record missing)`);
      count = Number(rec.readBigUInt64LE(32));
      cdSize = Number(rec.readBigUInt64LE(40));
      cdOffset = Number(rec.readBigUInt64LE(48));
    }
    if (count > this.limits.maxEntries) throw new ZipError(`${this.file}: ${count} entries in the archive, more than the ${this.limits.maxEntries} this reads`);
    if (cdOffset + cdSize > this.fileSize || cdSize > count * (46 + 3 * 0xffff)) throw new ZipError(`${this.file}: not a valid ZIP file (central directory out of bounds)`);
    this.cdStart = cdOffset;
    const cd = this.bytes(cdOffset, cdSize);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CEN) throw new ZipError(`${this.file}: not a valid ZIP file (central directory entry ${i + 1} is damaged)`);
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      let csize = cd.readUInt32LE(p + 20);
      let size = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28), extraLen = cd.readUInt16LE(p + 30), commentLen = cd.readUInt16LE(p + 32);
      let offset = cd.readUInt32LE(p + 42);
      if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new ZipError(`${this.file}: not a valid ZIP file (central directory entry ${i + 1} is cut short)`);
      const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
      // ZIP64 extended information: the 64-bit values of the fields set to all ones, in order.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e), len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          const next = () => {
            if (q + 8 > e + 4 + len) throw new ZipError(`${this.file}: not a valid ZIP file (ZIP64 field of "${name}" is too short)`);
            const v = Number(cd.readBigUInt64LE(q));
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = next();
          if (csize === 0xffffffff) csize = next();
          if (offset === 0xffffffff) offset = next();
        }
        e += 4 + len;
      }
      this.entries.push({ name, method, flags, crc, csize, size, offset });
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** The uncompressed bytes of an entry, within the caps and checked against its CRC-32. */
  read(entry: ZipEntry): Buffer {
    const where = `${this.file}: "${entry.name}"`;
    if (entry.flags & 0x1) throw new ZipError(`${where} is encrypted; export again without a password`);
    if (entry.method !== 0 && entry.method !== 8) throw new ZipError(`${where} uses compression method ${entry.method}; only stored and deflated entries can be read`);
    if (entry.size > this.limits.maxEntrySize) throw new ZipError(`${where} unpacks to ${MB(entry.size)}, more than the ${MB(this.limits.maxEntrySize)} a file may have`);
    if (this.readTotal + entry.size > this.limits.maxTotalSize) throw new ZipError(`${this.file}: the files unpack to more than ${MB(this.limits.maxTotalSize)} in all`);
    if (entry.method === 8 && entry.size > 1048576 && entry.size > entry.csize * this.limits.maxRatio) {
      throw new ZipError(`${where} claims to expand ${Math.round(entry.size / Math.max(1, entry.csize))} times (more than ${this.limits.maxRatio}): refused as a possible zip bomb`);
    }
    if (entry.method === 0 && entry.csize !== entry.size) throw new ZipError(`${where}: stored entry with different packed and unpacked sizes`);
    const head = this.bytes(entry.offset, 30);
    if (head.readUInt32LE(0) !== LOC) throw new ZipError(`${where}: local header missing (damaged archive)`);
    const start = entry.offset + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
    if (start + entry.csize > this.cdStart) throw new ZipError(`${where}: data overlaps the central directory (damaged archive)`);
    const packed = this.bytes(start, entry.csize);
    let out: Buffer;
    if (entry.method === 0) {
      out = packed;
    } else {
      try {
        out = inflateRawSync(packed, { maxOutputLength: Math.max(1, entry.size) });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ZipError(`${where} inflates to more than its declared ${entry.size} bytes (damaged, or a zip bomb)`);
        throw new ZipError(`${where} cannot be inflated: ${(e as Error).message}`);
      }
    }
    if (out.length !== entry.size) throw new ZipError(`${where}: ${out.length} bytes unpacked, ${entry.size} declared (damaged archive)`);
    if ((crc32(out) >>> 0) !== entry.crc) throw new ZipError(`${where}: CRC-32 mismatch (damaged archive)`);
    this.readTotal += entry.size;
    return out;
  }
}
