/** The sample hook requests of examples/requests, bundled as lazy chunks: fetched when a panel first lists them. */
const modules = import.meta.glob<{ default: Record<string, unknown> }>('../../../examples/requests/*.json');

export const SAMPLE_NAMES = Object.keys(modules)
  .map(
    (p) =>
      p
        .split('/')
        .pop()
        ?.replace(/\.json$/, '') ?? p,
  )
  .sort();

export async function loadSample(name: string): Promise<Record<string, unknown>> {
  const entry = Object.entries(modules).find(([p]) => p.endsWith(`/${name}.json`));
  if (!entry) throw new Error(`No sample ${name}`);
  return (await entry[1]()).default;
}
