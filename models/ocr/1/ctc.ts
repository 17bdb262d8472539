/**
 * Greedy CTC decoding of the recogniser's output: per time step the most
 * likely class; repeats collapse, the blank (class 0) separates; class k is
 * dictionary line k - 1, and the last class is a space.
 */
export function decodeCtc(
  probabilities: Float32Array,
  steps: number,
  classes: number,
  dictionary: readonly string[],
): { text: string; score: number } {
  let text = "";
  let total = 0;
  let kept = 0;
  let previous = -1;
  for (let step = 0; step < steps; step++) {
    const base = step * classes;
    let best = 0;
    let bestValue = -1;
    for (let k = 0; k < classes; k++) {
      const value = probabilities[base + k] as number;
      if (value > bestValue) {
        bestValue = value;
        best = k;
      }
    }
    if (best !== 0 && best !== previous) {
      text += dictionary[best - 1] ?? " ";
      total += bestValue;
      kept++;
    }
    previous = best;
  }
  return { text, score: kept === 0 ? 0 : total / kept };
}
