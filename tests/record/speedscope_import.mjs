// Runs speedscope's own import code (its released browser bundle) under node on one file
// and prints what it made of it: one line per profile, with its total weight and frame names.
// The bundle exposes no module API, so the source is loaded into a vm context with a
// do-nothing DOM and a hook is added after its importProfilesFromArrayBuffer wrapper; the
// app itself fails to start without a real browser, which does not matter here.
// usage: node speedscope_import.mjs RELEASE_DIR FILE   (exit 0 imported, 1 refused, 3 no importer)
import fs from 'node:fs';
import vm from 'node:vm';
const dir = process.argv[2], file = process.argv[3];
const js = fs.readdirSync(dir).find(f => /^speedscope-.*\.js$/.test(f));
let src = fs.readFileSync(dir + '/' + js, 'utf8');
const m = src.match(/async function (\w+)\((\w+),(\w+)\)\{return\(await (\w+)\)\.importProfilesFromArrayBuffer\(\2,\3\)\}/);
if (!m) { console.error('no importProfilesFromArrayBuffer in the bundle'); process.exit(3); }
src = src.replace(m[0], m[0] + ';globalThis.__csImport=' + m[1] + ';');
const absorb = new Proxy(function () {}, {
  get: (t, k) => k === Symbol.toPrimitive ? () => '' : k === 'then' ? undefined : absorb,
  apply: () => absorb, construct: () => absorb, set: () => true,
});
const ctx = {console, TextDecoder, TextEncoder, Uint8Array, ArrayBuffer, DataView, Promise,
  setTimeout, clearTimeout, queueMicrotask, URL, atob, btoa, performance};
ctx.window = ctx; ctx.self = ctx; ctx.globalThis = ctx;
ctx.document = absorb; ctx.navigator = {userAgent: 'node'}; ctx.location = {hash: '', search: '', href: ''};
ctx.localStorage = absorb; ctx.addEventListener = () => {}; ctx.requestAnimationFrame = () => 0;
ctx.matchMedia = () => ({matches: false, addEventListener() {}, addListener() {}});
vm.createContext(ctx);
try { vm.runInContext(src, ctx); } catch (e) { console.error('bundle stopped:', e.message); }
if (!ctx.__csImport) { console.error('import function not reached'); process.exit(3); }
const buf = fs.readFileSync(file);
const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
const g = await ctx.__csImport(file, ab);
if (!g || !g.profiles || !g.profiles.length) { console.error('speedscope did not import', file); process.exit(1); }
for (const p of g.profiles) {
  const names = new Set();
  p.forEachFrame(f => names.add(f.name));
  console.log('profile', p.getName(), 'weight', p.getTotalWeight(), 'frames', [...names].join(','));
}
