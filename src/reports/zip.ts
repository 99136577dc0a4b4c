// A minimal ZIP writer (PKWARE APPNOTE 6.3: local headers, deflated data, central directory):
// enough for `hush export`, where each CSV is built in memory and then appended to the file.
// Written to a stream entry by entry, so an export never holds more than one CSV at a time.
import { crc32, deflateRawSync } from 'node:zlib';
import type { Writable } from 'node:stream';

interface Entry { name: Buffer; crc: number; size: number; csize: number; offset: number }

export class ZipWriter {
  private readonly entries: Entry[] = [];
  private offset = 0;
  constructor(private readonly out: Writable, private readonly date = new Date()) {}

  private write(b: Buffer): Promise<void> {
    this.offset += b.length;
    return new Promise((resolve, reject) => this.out.write(b, (e) => (e ? reject(e) : resolve())));
  }

  private dosTime(): [number, number] {
    const d = this.date;
    return [(d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
      ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate()];
  }

  async add(name: string, data: Buffer): Promise<void> {
    const n = Buffer.from(name, 'utf8');
    const body = deflateRawSync(data);
    const e: Entry = { name: n, crc: crc32(data) >>> 0, size: data.length, csize: body.length, offset: this.offset };
    const [time, date] = this.dosTime();
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4); // version needed
    h.writeUInt16LE(0x0800, 6); // UTF-8 names
    h.writeUInt16LE(8, 8); // deflate
    h.writeUInt16LE(time, 10);
    h.writeUInt16LE(date, 12);
    h.writeUInt32LE(e.crc, 14);
    h.writeUInt32LE(e.csize, 18);
    h.writeUInt32LE(e.size, 22);
    h.writeUInt16LE(n.length, 26);
    await this.write(Buffer.concat([h, n, body]));
    this.entries.push(e);
  }

  async finish(): Promise<void> {
    const start = this.offset;
    const [time, date] = this.dosTime();
    for (const e of this.entries) {
      const c = Buffer.alloc(46);
      c.writeUInt32LE(0x02014b50, 0);
      c.writeUInt16LE(20, 4);
      c.writeUInt16LE(20, 6);
      c.writeUInt16LE(0x0800, 8);
      c.writeUInt16LE(8, 10);
      c.writeUInt16LE(time, 12);
      c.writeUInt16LE(date, 14);
      c.writeUInt32LE(e.crc, 16);
      c.writeUInt32LE(e.csize, 20);
      c.writeUInt32LE(e.size, 24);
      c.writeUInt16LE(e.name.length, 28);
      c.writeUInt32LE(e.offset, 42);
      await this.write(Buffer.concat([c, e.name]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.entries.length, 8);
    end.writeUInt16LE(this.entries.length, 10);
    end.writeUInt32LE(this.offset - start, 12);
    end.writeUInt32LE(start, 16);
    await this.write(end);
  }
}
