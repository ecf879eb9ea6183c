#!/usr/bin/env node
// A native-`solc`-compatible command line over solcjs (the `solc` npm package, wasm).
//
// py-solc-x and ape-solidity drive a native solc binary; none can be installed here, so this adapter
// speaks the subset of its command line they use:
//   solc --version
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths P[,P]...] < input.json
// Output is written synchronously with fs.writeSync in a loop: solcjs's own CLI ends with
// console.log + process.exit, which cuts piped output at 64 KiB.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

function writeAll(fd, text) {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
}

function fail(message) {
  writeAll(2, `Error: ${message}\n`);
  process.exitCode = 1;
}

function nativeVersion() {
  // Native format: `0.8.37+commit.f401782d.Linux.g++`; solcjs reports `...Emscripten.clang`.
  const long = solc.version().replace(/\.Emscripten\.clang$/, '');
  return `solc, the solidity compiler commandline interface\nVersion: ${long}.Linux.g++\n`;
}

function parseArgs(argv) {
  const opts = { standardJson: false, version: false, basePath: null, includePaths: [], allowPaths: [], rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const takeValue = () => {
      const eq = arg.indexOf('=');
      if (eq >= 0) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) throw new Error(`option ${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--version') opts.version = true;
    else if (arg === '--standard-json') opts.standardJson = true;
    else if (arg.startsWith('--base-path')) opts.basePath = takeValue();
    else if (arg.startsWith('--include-path')) opts.includePaths.push(takeValue());
    else if (arg.startsWith('--allow-paths')) opts.allowPaths.push(...takeValue().split(',').filter(Boolean));
    else opts.rest.push(arg);
  }
  return opts;
}

function importResolver(opts) {
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths].map((p) => path.resolve(p));
  const allowed = [...roots, ...opts.allowPaths.map((p) => path.resolve(p))];
  const isAllowed = (file) => allowed.some((root) => file === root || file.startsWith(root + path.sep));
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
    for (const file of candidates) {
      const resolved = path.resolve(file);
      if (!isAllowed(resolved)) continue;
      if (fs.existsSync(resolved) && fs.statSync(resolved).isFile()) {
        return { contents: fs.readFileSync(resolved, 'utf8') };
      }
    }
    return { error: `File not found inside the base path or any of the include paths: ${importPath}` };
  };
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    return fail(err.message);
  }
  if (opts.version) return writeAll(1, nativeVersion());
  if (!opts.standardJson) {
    return fail(`only --version and --standard-json are supported by this solcjs adapter (got: ${process.argv.slice(2).join(' ')})`);
  }
  if (opts.rest.length) return fail(`unexpected arguments with --standard-json: ${opts.rest.join(' ')}`);
  const input = fs.readFileSync(0, 'utf8');
  const output = solc.compile(input, { import: importResolver(opts) });
  writeAll(1, output);
}

main();
