/**
 * Splits the bytes a ZooKeeper connection receives into whole packets (a 4-byte big-endian length,
 * then that many bytes) before `node-zookeeper-client` reads them.
 *
 * The library handles one packet per call of its socket handler: when a chunk holds more, it keeps
 * the rest and calls itself again, joining the rest with an empty buffer — a copy of everything
 * after each packet. A chunk of n packets is copied n times: at 1,000 jobs firing in one second the
 * watch notifications of a burst arrive as chunks of hundreds of packets, and those copies were
 * 4 % of the process's CPU and most of its garbage. Fed one whole packet at a time, the library
 * never keeps a rest and copies nothing; a packet is a view of the chunk it arrived in, and only a
 * packet that spans chunks is joined, once.
 *
 * @module
 */

/** Bytes of the length prefix of a packet. */
const LENGTH_BYTES = 4;

/** Reassembles length-prefixed packets from the chunks of one connection. */
export class PacketFramer {
  /** Chunks (or their tails) of a packet not complete yet, in order. */
  #partial: Buffer[] = [];
  #partialBytes = 0;

  /**
   * Takes the next chunk of the stream and hands every packet it completes to `onPacket`, in order
   * (length prefix included); keeps an incomplete tail for the next chunk.
   *
   * @param chunk - bytes as received.
   * @param onPacket - called once per whole packet; the buffer may be a view of `chunk`.
   */
  push(chunk: Buffer, onPacket: (packet: Buffer) => void): void {
    let data = chunk;
    if (this.#partialBytes > 0) {
      const needed = this.#needed(chunk);
      if (needed === undefined || this.#partialBytes + chunk.length < needed) {
        this.#keep(chunk);
        return;
      }
      // The packet completes in this chunk: join its parts once, then go on after it.
      const head = chunk.subarray(0, needed - this.#partialBytes);
      const packet = Buffer.concat([...this.#partial, head], needed);
      data = chunk.subarray(head.length);
      this.reset();
      onPacket(packet);
    }
    let offset = 0;
    while (data.length - offset >= LENGTH_BYTES) {
      const length = data.readInt32BE(offset);
      if (length < 0) {
        // Not a stream of packets: the library gets the rest as it came and decides.
        onPacket(data.subarray(offset));
        return;
      }
      const end = offset + LENGTH_BYTES + length;
      if (end > data.length) break;
      onPacket(data.subarray(offset, end));
      offset = end;
    }
    if (offset < data.length) this.#keep(data.subarray(offset));
  }

  /** Drops an incomplete packet (the connection it came from is gone). */
  reset(): void {
    this.#partial = [];
    this.#partialBytes = 0;
  }

  /** The length, prefix included, of the packet held in part plus `next`, once its prefix is known. */
  #needed(next: Buffer): number | undefined {
    if (this.#partialBytes + next.length < LENGTH_BYTES) return undefined;
    const prefix =
      this.#partial[0] !== undefined && this.#partial[0].length >= LENGTH_BYTES
        ? this.#partial[0]
        : Buffer.concat([...this.#partial, next], LENGTH_BYTES);
    return LENGTH_BYTES + prefix.readInt32BE(0);
  }

  #keep(bytes: Buffer): void {
    this.#partial.push(bytes);
    this.#partialBytes += bytes.length;
  }
}
