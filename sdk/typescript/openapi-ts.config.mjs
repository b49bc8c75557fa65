// Generator settings for `make sdk` (@hey-api/openapi-ts, pinned in package.json).
// The input path is relative to this directory; `make sdk` may override the
// output with ZL_SDK_TS_OUT to generate into a scratch directory (sdk-check).
export default {
  input: process.env.ZL_SDK_SPEC ?? '../../api/openapi.yaml',
  output: {
    path: process.env.ZL_SDK_TS_OUT ?? 'src/gen',
    clean: true,
    // Node's ESM loader (and tsc with NodeNext) needs explicit extensions.
    module: { extension: '.js' },
    tsConfigPath: null,
  },
  logs: { file: false },
  plugins: [
    '@hey-api/client-fetch',
    '@hey-api/typescript',
    { name: '@hey-api/sdk' },
  ],
};
