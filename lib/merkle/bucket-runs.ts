/** Runs of consecutive indices in an ascending list, as [first, last] pairs. */
export function* runs(sorted: number[]): Generator<[number, number]> {
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    yield [sorted[i], sorted[j]];
    i = j + 1;
  }
}
