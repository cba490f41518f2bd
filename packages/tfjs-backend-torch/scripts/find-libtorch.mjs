/** Where libtorch's CMake package is (shared by the build script and the runtime loader's messages). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** How to install and rebuild, worded once (install-hint.json; the runtime loader reads it too). */
export const HINTS = JSON.parse(readFileSync(new URL('../install-hint.json', import.meta.url), 'utf8'));

function configDirUnder(prefix) {
  for (const dir of [
    prefix,
    path.join(prefix, 'Torch'),
    path.join(prefix, 'share', 'cmake', 'Torch'),
    path.join(prefix, 'cmake', 'Torch'),
    path.join(prefix, 'lib', 'cmake', 'Torch'),
  ]) {
    if (existsSync(path.join(dir, 'TorchConfig.cmake'))) return dir;
  }
  return undefined;
}

/** The directory holding TorchConfig.cmake, or undefined. */
export function findTorchCmakeDir(env = process.env) {
  if (env.TORCH_CMAKE_PREFIX) return configDirUnder(env.TORCH_CMAKE_PREFIX);
  const candidates = ['/usr/share/cmake/Torch', '/usr/local/share/cmake/Torch'];
  for (const lib of ['/usr/lib', '/usr/local/lib']) {
    if (!existsSync(lib)) continue;
    candidates.push(path.join(lib, 'cmake', 'Torch'));
    for (const entry of readdirSync(lib))
      if (entry.endsWith('-linux-gnu')) candidates.push(path.join(lib, entry, 'cmake', 'Torch'));
  }
  for (const dir of candidates) if (existsSync(path.join(dir, 'TorchConfig.cmake'))) return dir;
  return undefined;
}
