// jest's node environment, with the typed-array constructors of Node's own realm. Each test
// file runs in a vm context whose Float32Array is not Node's, so a typed array made by a
// native addon (onnxruntime-node's outputs) fails `instanceof Float32Array` inside the test
// realm, and onnxruntime refuses its own results. One set of constructors for both realms
// makes jest behave like plain Node here.
const { TestEnvironment } = require('jest-environment-node');

const TYPED = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class NodeRealmTypedArrays extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED) this.global[name] = globalThis[name];
  }
}

module.exports = NodeRealmTypedArrays;
