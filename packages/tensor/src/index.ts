// Every package takes TensorFlow.js from here so one process holds one engine and one backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export { tf };
export * from './safetensors';
export * from './write-file-atomic';
