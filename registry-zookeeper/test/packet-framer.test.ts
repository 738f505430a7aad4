import { describe, expect, it } from 'vitest';
import { PacketFramer } from '../src/packet-framer.js';

function packet(body: string): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const framed = Buffer.alloc(4 + payload.length);
  framed.writeInt32BE(payload.length, 0);
  payload.copy(framed, 4);
  return framed;
}

function bodies(packets: Buffer[]): string[] {
  return packets.map((framed) => {
    expect(framed.readInt32BE(0)).toBe(framed.length - 4);
    return framed.subarray(4).toString('utf8');
  });
}

/** Pushes `chunks` in order and returns the packets handed over. */
function frame(framer: PacketFramer, chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const chunk of chunks) framer.push(chunk, (p) => out.push(p));
  return out;
}

describe('PacketFramer', () => {
  it('hands over every packet of a chunk holding several, in order, as views of the chunk', () => {
    const chunk = Buffer.concat([packet('one'), packet(''), packet('three')]);
    const out = frame(new PacketFramer(), [chunk]);
    expect(bodies(out)).toEqual(['one', '', 'three']);
    expect(out.every((p) => p.buffer === chunk.buffer)).toBe(true);
  });

  it('reassembles a packet split at every possible byte, including inside its length prefix', () => {
    const stream = Buffer.concat([packet('alpha'), packet('beta-gamma'), packet('x')]);
    for (let cut = 1; cut < stream.length; cut++) {
      const out = frame(new PacketFramer(), [stream.subarray(0, cut), stream.subarray(cut)]);
      expect(bodies(out), `cut at ${cut}`).toEqual(['alpha', 'beta-gamma', 'x']);
    }
  });

  it('reassembles a packet delivered one byte at a time', () => {
    const stream = Buffer.concat([packet('slow'), packet('drip')]);
    const chunks = Array.from(stream, (byte) => Buffer.from([byte]));
    expect(bodies(frame(new PacketFramer(), chunks))).toEqual(['slow', 'drip']);
  });

  it('holds an incomplete packet until it completes, and hands nothing over meanwhile', () => {
    const framer = new PacketFramer();
    const whole = packet('pending');
    expect(frame(framer, [whole.subarray(0, 6)])).toEqual([]);
    expect(bodies(frame(framer, [whole.subarray(6)]))).toEqual(['pending']);
  });

  it('drops an incomplete packet on reset (a new connection starts at a packet boundary)', () => {
    const framer = new PacketFramer();
    frame(framer, [packet('lost').subarray(0, 5)]);
    framer.reset();
    expect(bodies(frame(framer, [packet('fresh')]))).toEqual(['fresh']);
  });

  it('hands over the rest of a chunk as it came when a length is negative (not a packet stream)', () => {
    const bad = Buffer.alloc(6);
    bad.writeInt32BE(-1, 0);
    const out = frame(new PacketFramer(), [Buffer.concat([packet('ok'), bad])]);
    expect(out).toHaveLength(2);
    expect(out[1]?.equals(bad)).toBe(true);
  });
});
