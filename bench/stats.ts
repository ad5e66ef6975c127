/** Small statistics helpers for the benchmark: percentiles, medians and a least-squares line. */

/** The p-th percentile (0–100) of the samples, linearly interpolated between the closest ranks. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (rank - low);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export interface Line {
  slope: number;
  intercept: number;
}

/** Ordinary least squares fit of y = slope·x + intercept. */
export function linearFit(points: readonly { x: number; y: number }[]): Line {
  const n = points.length;
  if (n < 2) throw new Error('a line needs at least two points');
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Runs `total` tasks with at most `concurrency` in flight. */
export async function pool(total: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      const index = next++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
}

/** A small seeded generator (mulberry32), so a bootstrap gives the same interval for the same samples. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws a bootstrap resample (same size, with replacement) from a seeded generator, so a run can be repeated. */
function resampler(seed: number): (samples: readonly number[]) => number[] {
  const random = seededRandom(seed);
  return (samples) =>
    Array.from({ length: samples.length }, () => samples[Math.floor(random() * samples.length)] as number);
}

/**
 * A percentile bootstrap interval for the ratio of two sides' per-step slopes (the least-squares line through the
 * p-th percentile latency at each size): each round resamples every side's samples at every size with replacement
 * and fits both lines again. Returns the 5th and 95th percentiles of the ratio (a 90% interval): how much of a
 * measured ratio the samples themselves can account for.
 */
export function slopeRatioInterval(
  numerator: Readonly<Record<number, readonly number[]>>,
  denominator: Readonly<Record<number, readonly number[]>>,
  sizes: readonly number[],
  p: number,
  rounds = 1_000,
  seed = 1
): [number, number] {
  const resample = resampler(seed);
  const slope = (side: Readonly<Record<number, readonly number[]>>) =>
    linearFit(sizes.map((x) => ({ x, y: percentile(resample(side[x] ?? []), p) }))).slope;
  const ratios = Array.from({ length: rounds }, () => slope(numerator) / slope(denominator));
  return [percentile(ratios, 5), percentile(ratios, 95)];
}

/**
 * A percentile bootstrap interval for the ratio of two sides' p-th percentiles: each round resamples both sides'
 * samples with replacement. Returns the 5th and 95th percentiles of the ratio (a 90% interval).
 */
export function percentileRatioInterval(
  numerator: readonly number[],
  denominator: readonly number[],
  p: number,
  rounds = 1_000,
  seed = 1
): [number, number] {
  const resample = resampler(seed);
  const ratios = Array.from(
    { length: rounds },
    () => percentile(resample(numerator), p) / percentile(resample(denominator), p)
  );
  return [percentile(ratios, 5), percentile(ratios, 95)];
}
