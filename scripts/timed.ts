/** The benchmark scripts' one measuring helper: runs a step, prints its label and seconds. */
export async function timed<T>(label: string, step: () => Promise<T> | T): Promise<T> {
  const start = process.hrtime.bigint();
  const result = await step();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label.padEnd(56)} ${seconds.toFixed(2).padStart(8)} s`);
  return result;
}
