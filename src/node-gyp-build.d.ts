/** The one function of node-gyp-build that src/binding.ts calls (the package ships no types). */
declare module 'node-gyp-build' {
  /** Loads the addon of the package in `dir`: its build/Release, else a matching prebuild. */
  function load(dir: string): unknown;
  export = load;
}
