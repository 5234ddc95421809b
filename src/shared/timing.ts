/** Milliseconds since a `performance.now()` reading, to one decimal (log fields). */
export const msSince = (started: number): number => Math.round((performance.now() - started) * 10) / 10;

/** Whether `work` settles within `ms` (it keeps running either way; shutdown waits use this). */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return settled;
}
