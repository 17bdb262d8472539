/** A gRPC length-prefixed message: flags byte (bit 0: compressed), big-endian length (`declared`, or the real one), bytes. */
export function grpcFrame(message: Uint8Array, flags = 0, declared = message.length): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, declared);
  out.set(message, 5);
  return out;
}
