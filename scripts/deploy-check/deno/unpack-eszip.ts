/**
 * Unpacks an ESZIP that Netlify's edge bundler wrote into a directory Deno can import: every module at its path, the
 * bundle's import map, and `stage2.js` (the `netlify:bootstrap-stage2` module that exports the `functions` map), with
 * the bundle's virtual roots (`file:///root/`, `file:///vendor/`) moved under the directory.
 *
 * Run with the edge bundler's vendored import map (its eszip parser imports deno.land URLs, vendored offline):
 *   deno run --allow-read --allow-write --import-map=<edge-bundler>/deno/vendor/import_map.json unpack-eszip.ts <vendor dir> <bundle.eszip> <out dir>
 */
const [vendorDir, eszipPath, outDir] = Deno.args
if (!vendorDir || !eszipPath || !outDir) throw new Error('usage: unpack-eszip.ts <vendor dir> <bundle.eszip> <out dir>')

const cwd = `file://${Deno.cwd()}/`
const { Parser } = await import(new URL('deno.land/x/eszip@v0.55.2/mod.ts', new URL(`${vendorDir.replace(/\/?$/, '/')}`, cwd)).href)
const parser = await Parser.createInstance()
const specifiers: string[] = await parser.parseBytes(await Deno.readFile(eszipPath))
await parser.load()

const out = new URL(outDir.replace(/\/?$/, '/'), cwd)
const relocate = (text: string) => text.replaceAll('file:///root/', new URL('root/', out).href).replaceAll('file:///vendor/', new URL('vendor/', out).href)

const written: string[] = []
for (const specifier of specifiers) {
  const source: string | undefined = await parser.getModuleSource(specifier)
  if (source === undefined) continue
  let target: URL
  if (specifier === 'netlify:bootstrap-stage2') target = new URL('stage2.js', out)
  else if (specifier === 'netlify:import-map') target = new URL('import_map.json', out)
  else if (specifier.startsWith('file:///')) target = new URL(relocate(specifier))
  else continue
  await Deno.mkdir(new URL('.', target), { recursive: true })
  await Deno.writeTextFile(target, specifier.startsWith('file:///') ? source : relocate(source))
  written.push(specifier)
}
console.log(
  JSON.stringify({ modules: written.length, stage2: written.includes('netlify:bootstrap-stage2'), importMap: written.includes('netlify:import-map') }),
)

export {}
