// heic-decode ships no types: the one call imgflow makes (src/heic.ts).
declare module 'heic-decode' {
  interface DecodedHeic {
    width: number;
    height: number;
    data: Uint8ClampedArray;
  }
  function decode(input: { buffer: Buffer | Uint8Array }): Promise<DecodedHeic>;
  export default decode;
}
