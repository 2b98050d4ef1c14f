export interface OutputError {
  /** max|a - b| / max|a| over all outputs: the parity criterion. */
  maxRelative: number;
  /**
   * max|a - b| / max|a - mean_c(a)|: the error against the spatially varying part of each channel.
   * Detect biases (objectness priors near -7) dominate max|a| of an untrained model, so this is the
   * honest measure of how much of the signal a lower precision keeps.
   */
  centredRelative: number;
  maxAbs: number;
}

/** Compares NCHW outputs [1, channels, h, w] of two runs of the same model. */
export function outputError(
  reference: Float32Array[],
  actual: Float32Array[],
  channels: number,
): OutputError {
  if (reference.length !== actual.length)
    throw new Error(`outputError: ${reference.length} vs ${actual.length} outputs`);
  let maxAbs = 0;
  let maxRef = 0;
  let maxCentred = 0;
  reference.forEach((r, o) => {
    const a = actual[o]!;
    if (a.length !== r.length)
      throw new Error(`outputError: output ${o} has ${a.length} values, expected ${r.length}`);
    const hw = r.length / channels;
    for (let c = 0; c < channels; c++) {
      let mean = 0;
      for (let k = c * hw; k < (c + 1) * hw; k++) mean += r[k]!;
      mean /= hw;
      for (let k = c * hw; k < (c + 1) * hw; k++) {
        maxAbs = Math.max(maxAbs, Math.abs(a[k]! - r[k]!));
        maxRef = Math.max(maxRef, Math.abs(r[k]!));
        maxCentred = Math.max(maxCentred, Math.abs(r[k]! - mean));
      }
    }
  });
  return {
    maxAbs,
    maxRelative: maxRef > 0 ? maxAbs / maxRef : maxAbs,
    centredRelative: maxCentred > 0 ? maxAbs / maxCentred : maxAbs,
  };
}
